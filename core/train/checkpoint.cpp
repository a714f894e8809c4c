#include "core/train/checkpoint.h"

#include "core/util/errors.h"
#include "core/util/sha256.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace continua::core {
namespace fs = std::filesystem;

std::string sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return sha256Hex(s.str());
}

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
  fs::rename(tmp, path);
  return sha256File(path);
}

CheckpointState loadCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  if (!fs::exists(path)) throw DataError("checkpoint " + path + " is missing");
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
