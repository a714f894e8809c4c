#include "core/report/claims.h"

#include "core/util/errors.h"
#include "core/util/number_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

namespace continua::core {
using nlohmann::json;

namespace {

const std::set<std::string> kChecks{"greater", "less", "close", "above", "below", "ratio-above", "all-above", "steadier"};
bool needsB(const std::string& check) { return check != "above" && check != "below" && check != "all-above"; }
bool needsValue(const std::string& check) {
  return check == "above" || check == "below" || check == "ratio-above" || check == "all-above";
}

std::string sideText(const char* label, const ClaimSide& s) {
  return std::string(label) + " = " + s.value.text(3) + " [" + s.group + ": " + s.quantity + "]";
}

std::vector<double> groupValues(const RunStore& store, const std::vector<RunSummary>& runs, const ClaimSide& side,
                                CurveCache& curves) {
  std::vector<double> values;
  for (const auto& r : runs)
    if (r.status == "finished" && r.name == side.group) values.push_back(runQuantity(store, r, side.quantity, &curves));
  return values;
}

void requireSide(const json& claim, const char* key, const std::string& where) {
  if (!claim.contains(key) || !claim[key].is_object() || !claim[key].contains("group") || !claim[key]["group"].is_string() ||
      !claim[key].contains("quantity") || !claim[key]["quantity"].is_string())
    throw ConfigError(where + ": \"" + key + "\" must be an object with string fields \"group\" and \"quantity\"");
}

// The verdict of a check whose groups both have enough seeds (`aValues`: a's value in each run).
bool holds(const ClaimResult& r, const json& c, const std::vector<double>& aValues) {
  const double a = r.a.value.mean, b = r.hasB ? r.b.value.mean : std::nan("");
  const double margin = c.value("margin", 0.0);
  if (r.check == "greater") return a - b > margin;
  if (r.check == "less") return a - b < -margin;
  if (r.check == "close")
    return c.contains("relative") ? std::abs(a - b) <= c["relative"].get<double>() * std::abs(b)
                                  : std::abs(a - b) <= c.value("tolerance", 0.0);
  if (r.check == "above") return a > c["value"].get<double>();
  if (r.check == "below") return a < c["value"].get<double>();
  if (r.check == "ratio-above") return a / b > c["value"].get<double>();
  if (r.check == "all-above")
    return std::all_of(aValues.begin(), aValues.end(), [&](double v) { return v > c["value"].get<double>(); });
  return r.a.value.std < r.b.value.std;  // steadier
}

std::string relationText(const ClaimResult& r, const json& c) {
  if (r.check == "greater") return " > b + " + significantText(c.value("margin", 0.0));
  if (r.check == "less") return " < b − " + significantText(c.value("margin", 0.0));
  if (r.check == "close")
    return c.contains("relative") ? " within " + significantText(100 * c["relative"].get<double>()) + "% of b"
                                  : " within " + significantText(c.value("tolerance", 0.0)) + " of b";
  if (r.check == "above") return " > " + significantText(c["value"].get<double>());
  if (r.check == "below") return " < " + significantText(c["value"].get<double>());
  if (r.check == "all-above") return " in every seed > " + significantText(c["value"].get<double>());
  if (r.check == "ratio-above") return " / b = " + significantText(r.a.value.mean / r.b.value.mean) + " > " + significantText(c["value"].get<double>());
  return ": std a < std b";
}

}  // namespace

json loadClaimsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("claims file " + path + " cannot be read");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ConfigError("claims file " + path + " is not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("claims") || !j["claims"].is_array())
    throw ConfigError("claims file " + path + ": expected an object with a \"claims\" array");
  for (size_t i = 0; i < j["claims"].size(); ++i) {
    const json& c = j["claims"][i];
    const std::string where = path + ": claim " + std::to_string(i + 1);
    for (const char* key : {"paper", "claim", "check"})
      if (!c.contains(key) || !c[key].is_string()) throw ConfigError(where + ": \"" + key + "\" must be a string");
    const std::string check = c["check"];
    if (!kChecks.count(check))
      throw ConfigError(where + ": \"check\" must be one of greater, less, close, above, below, ratio-above, all-above, steadier; got \"" +
                        check + "\"");
    requireSide(c, "a", where);
    if (needsB(check)) requireSide(c, "b", where);
    if (needsValue(check) && !(c.contains("value") && c["value"].is_number()))
      throw ConfigError(where + ": \"" + check + "\" needs a number \"value\"");
    if (check == "close" && !c.contains("tolerance") && !c.contains("relative"))
      throw ConfigError(where + ": \"close\" needs \"tolerance\" (absolute) or \"relative\" (a fraction of b)");
  }
  return j;
}

std::vector<ClaimResult> evaluateClaims(const json& claims, const RunStore& store, const std::vector<RunSummary>& runs,
                                        CurveCache* shared) {
  CurveCache own(store);
  CurveCache& curves = shared ? *shared : own;
  std::vector<ClaimResult> out;
  for (const json& c : claims["claims"]) {
    ClaimResult r;
    r.paper = c["paper"];
    r.claim = c["claim"];
    r.command = c.value("command", "");
    r.check = c["check"];
    r.a = {c["a"]["group"], c["a"]["quantity"], {}};
    const std::vector<double> aValues = groupValues(store, runs, r.a, curves);
    r.a.value = statisticOf(aValues);
    r.hasB = needsB(r.check);
    if (r.hasB) {
      r.b = {c["b"]["group"], c["b"]["quantity"], {}};
      r.b.value = statisticOf(groupValues(store, runs, r.b, curves));
    }
    const int minSeeds = c.value("min_seeds", 3);
    const int fewest = r.hasB ? std::min(r.a.value.count, r.b.value.count) : r.a.value.count;
    r.evidence = sideText("a", r.a) + (r.hasB ? "; " + sideText("b", r.b) : "") + "; test: a" + relationText(r, c);
    if (fewest == 0) r.verdict = "not run";
    else if (fewest < minSeeds) r.verdict = "too few seeds";
    else r.verdict = holds(r, c, aValues) ? "reproduced" : "not reproduced";
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace continua::core
