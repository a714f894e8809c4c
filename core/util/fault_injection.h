#pragma once
// Crash-testing hooks: named points in the engine where a test can have the process killed (SIGKILL, as
// a power cut or the OOM killer would) the N-th time it passes, to prove that nothing committed is lost and
// every run stays resumable. Set CONTINUA_KILL_AT=<point>:<N> (e.g. "metrics-transaction:3"); without it
// a point costs one branch on a static. Points: step, metrics-transaction, checkpoint-written,
// checkpoint-renamed, maps, curves, final-sweeps (tests/core/test_reliability.cpp). No LibTorch.
namespace continua::core {

void faultPoint(const char* name);

}  // namespace continua::core
