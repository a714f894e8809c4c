#pragma once
// What several commands share: the --db option, number and time formatting, and the closing summary of a run.
#include "core/store/run_store.h"

#include <CLI/CLI.hpp>

#include <string>

namespace continua::app {

// Adds --db to a command; the path is resolved ($CONTINUA_DB, settings file, XDG data directory) when used.
void addDatabaseOption(CLI::App* cmd, std::string& db);
std::string databasePath(const std::string& db);

std::string shortNumber(double v);  // "%.4g", "-" for NaN
std::string localTime(double secondsSinceEpoch);  // "2026-12-01 14:05", "-" when unset
std::string keyMetricText(const core::RunSummary& r);

// After a run: its status, steps, time, test metrics and where it is stored.
void printRunSummary(const core::RunStore& store, int64_t id);

}  // namespace continua::app
