#include "core/train/checkpoint.h"

#include "core/util/errors.h"
#include "core/util/fault_injection.h"
#include "core/util/sha256.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace continua::core {
namespace fs = std::filesystem;

std::string saveCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                           const CheckpointState& state) {
  fs::create_directories(fs::path(path).parent_path());
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive modelArchive, optimArchive;
  model.save(modelArchive);
  optimizer.save(optimArchive);
  archive.write("model", modelArchive);
  archive.write("optimizer", optimArchive);
  archive.write("step", torch::tensor(state.step));
  archive.write("episode_rng", state.episodeRng);
  archive.write("default_rng", state.defaultRng);
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  faultPoint("checkpoint-written");  // a half-made checkpoint only ever exists under the .tmp name
  const std::string hash = sha256OfFile(tmp);  // hashed once, as written, before it takes its name
  fs::rename(tmp, path);
  faultPoint("checkpoint-renamed");  // the file exists but the store has no record of it yet
  return hash;
}

CheckpointState loadCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                               const std::string& expectedSha256) {
  if (!fs::exists(path)) throw DataError("checkpoint " + path + " is missing");
  if (!expectedSha256.empty()) {
    const std::string actual = sha256OfFile(path);
    if (actual != expectedSha256)
      throw DataError("checkpoint " + path + " is corrupt: its SHA-256 is " + actual + ", the run store recorded " + expectedSha256);
  }
  torch::serialize::InputArchive archive, modelArchive, optimArchive;
  try {
    archive.load_from(path);
    archive.read("model", modelArchive);
    archive.read("optimizer", optimArchive);
  } catch (const c10::Error& e) {
    throw DataError("checkpoint " + path + " cannot be read: " + std::string(e.what_without_backtrace()));
  }
  model.load(modelArchive);
  optimizer.load(optimArchive);
  CheckpointState s;
  torch::Tensor step;
  archive.read("step", step);
  s.step = step.item<int64_t>();
  archive.read("episode_rng", s.episodeRng);
  archive.read("default_rng", s.defaultRng);
  return s;
}

}  // namespace continua::core
