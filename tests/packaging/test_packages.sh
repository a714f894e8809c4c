#!/usr/bin/env bash
# The packages, as a user gets them: cpack builds the two .deb packages and the headless tarball from the
# built tree; they are inspected (dpkg-deb, lintian, desktop-file-validate, appstreamcli), unpacked into a
# throw-away root (dpkg -x) and run from there — --version, presets, the kernel check, a tiny run, and the
# workbench offscreen with its About box saved as a PNG. Nothing from the build or source tree is on a path
# the installed programs see. Usage: test_packages.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
fail() { echo "test_packages: $*" >&2; exit 1; }
# Without the checkers the test cannot judge the packages: it says so and reports itself skipped (77), never passed.
for tool in cpack dpkg-deb lintian desktop-file-validate appstreamcli help2man; do
  command -v "$tool" >/dev/null || { echo "test_packages: skipped: $tool is missing (packaging/install-deps.sh installs it)" >&2; exit 77; }
done
rm -rf "$work" && mkdir -p "$work/out" "$work/root" "$work/home"

(cd "$build" && cpack -B "$work/out" > "$work/cpack.log") || { cat "$work/cpack.log"; fail "cpack failed"; }
version=$(sed -n 's/^#define CONTINUA_VERSION "\(.*\)"/\1/p' "$build/generated/continua_version.h")
gui=$work/out/continua_${version}-1_amd64.deb cli=$work/out/continua-cli_${version}-1_amd64.deb
tarball=$work/out/continua-cli-${version}-Linux-x86_64.tar.gz
for f in "$gui" "$cli" "$tarball"; do [ -f "$f" ] || fail "cpack did not write $(basename "$f"): $(ls "$work/out")"; done

# Control fields: computed dependencies, and the headless package free of Qt.
field() { dpkg-deb --field "$1" "$2"; }
[ "$(field "$cli" Package)" = continua-cli ] || fail "headless package name"
[ "$(field "$gui" Package)" = continua ] || fail "workbench package name"
for dep in libtorch1.13 libsqlite3-0 libopenblas0; do
  [[ $(field "$cli" Depends) == *"$dep"* ]] || fail "continua-cli does not depend on $dep: $(field "$cli" Depends)"
done
for dep in libtorch1.13 libqt6widgets6 libqcustomplot2.1-qt6; do
  [[ $(field "$gui" Depends) == *"$dep"* ]] || fail "continua does not depend on $dep: $(field "$gui" Depends)"
done
[[ $(field "$cli" Depends) == *[Qq]t* ]] && fail "the headless package depends on Qt: $(field "$cli" Depends)"
dpkg-deb --info "$gui" > /dev/null

# Contents: everything under /usr, the files a desktop and Debian expect.
contents() { dpkg-deb --contents "$1" | awk '{print $6}' | sed 's|^\./|/|'; }
contents "$cli" > "$work/cli.txt"
contents "$gui" > "$work/gui.txt"
grep -qv '^/usr' "$work/cli.txt" "$work/gui.txt" && fail "files outside /usr: $(grep -hv '^/usr' "$work/cli.txt" "$work/gui.txt")"
for f in /usr/bin/continua-cli /usr/share/man/man1/continua-cli.1.gz /usr/share/doc/continua-cli/copyright \
         /usr/share/doc/continua-cli/changelog.Debian.gz; do
  grep -qx "$f" "$work/cli.txt" || fail "continua-cli lacks $f"
done
for f in /usr/bin/continua /usr/share/man/man1/continua.1.gz /usr/share/applications/org.continua.Continua.desktop \
         /usr/share/metainfo/org.continua.Continua.metainfo.xml /usr/share/mime/packages/org.continua.Continua.xml \
         /usr/share/icons/hicolor/scalable/apps/continua.svg /usr/share/icons/hicolor/48x48/apps/continua.png \
         /usr/share/icons/hicolor/256x256/apps/continua.png /usr/share/doc/continua/copyright; do
  grep -qx "$f" "$work/gui.txt" || fail "continua lacks $f"
done

# Debian's and freedesktop's own checkers: no lintian error, valid desktop entry and AppStream data.
lintian --tag-display-limit 0 "$cli" "$gui" > "$work/lintian.txt" 2>&1 || true
grep -E '^E: ' "$work/lintian.txt" && fail "lintian errors (all findings in $work/lintian.txt)"
dpkg -x "$cli" "$work/root"
dpkg -x "$gui" "$work/root"
desktop-file-validate "$work/root/usr/share/applications/org.continua.Continua.desktop" | grep -i error && fail "desktop entry"
appstreamcli validate --no-net "$work/root/usr/share/metainfo/org.continua.Continua.metainfo.xml" > "$work/appstream.txt" \
  || { cat "$work/appstream.txt"; fail "AppStream metainfo"; }

# Run the installed programs: from another directory, with a fresh home, so no build-tree file can be found.
cd "$work"
export HOME=$work/home XDG_DATA_HOME=$work/home/data XDG_CONFIG_HOME=$work/home/config
bin=$work/root/usr/bin
# (Outputs are captured before grep: with pipefail, grep -q closing the pipe early would fail the command.)
out=$("$bin/continua-cli" --version) && [[ $out == *"continua-cli $version"* ]] || fail "installed continua-cli --version: $out"
out=$("$bin/continua-cli" presets) && grep -q '^quickstart' <<< "$out" || fail "installed continua-cli has no quickstart preset"
"$bin/continua-cli" check-kernels > "$work/kernels.txt" || { cat "$work/kernels.txt"; fail "installed kernels check"; }
cat > "$work/tiny.json" <<'JSON'
{"name": "installed", "model": {"family": "mamba", "d_model": 16, "layers": 1, "d_state": 4},
 "episode": {"tasks": 3, "shots": 2, "test_shots": 1}, "eval_episode": {"tasks": 3, "shots": 2},
 "data": {"classes": 40, "dim": 8}, "optim": {"steps": 4, "batch_size": 4},
 "eval": {"every": 2, "episodes": 4, "final_episodes": 4, "length_tasks": [2, 3], "length_shots": [2], "noise_levels": [0.0]}}
JSON
"$bin/continua-cli" run "$work/tiny.json" > "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "a tiny run from the installed CLI"; }
out=$("$bin/continua-cli" list) && grep -q "installed.*finished" <<< "$out" || fail "the installed CLI's run is not listed as finished: $out"
[ -f "$XDG_DATA_HOME/continua/runs.db" ] || fail "the run was not stored in the XDG data directory"

# The headless tarball runs the same way, unpacked anywhere.
mkdir -p "$work/tar" && tar -xzf "$tarball" -C "$work/tar"
out=$("$work"/tar/continua-cli-*/bin/continua-cli --version) && [[ $out == *"$version"* ]] || fail "the tarball's continua-cli"

# The installed workbench, offscreen: every view and the About box (with its icon) saved as PNGs.
out=$(QT_QPA_PLATFORM=offscreen "$bin/continua" --version) && [[ $out == *"$version"* ]] || fail "installed continua --version: $out"
QT_QPA_PLATFORM=offscreen timeout 120 "$bin/continua" --db "$XDG_DATA_HOME/continua/runs.db" --select 1 \
  --screenshots "$work/screenshots" > "$work/gui.log" 2>&1 || { cat "$work/gui.log"; fail "the installed workbench"; }
[ "$(stat -c %s "$work/screenshots/about.png")" -gt 5000 ] || fail "no About box screenshot"
echo "test_packages: $(basename "$cli"), $(basename "$gui"), $(basename "$tarball"): inspected, unpacked and run"
echo "test_packages: lintian: $(grep -c '^W: ' "$work/lintian.txt" || true) warnings, no error; screenshots in $work/screenshots"
