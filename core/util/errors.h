#pragma once
// Typed exceptions for foreseeable failures, each with a message a user can act on. They never cross
// the Qt event loop: the workbench catches them at its engine bridge and shows them in the window.
#include <stdexcept>
#include <string>

namespace continua::core {

// A configuration value is wrong: "model.d_state must be 1..256, got 0".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A data file is missing, truncated or malformed: names the file and what was expected.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The run database cannot be opened or written.
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace continua::core
