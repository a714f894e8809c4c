// File-backed MCL sources: CIFAR-100 in its published binary format and image folders (one sub-folder per class,
// PNG/JPEG via stb_image), held in memory and split as cl-as-seq splits them; feature files: feature_files.cpp.
#include "core/tasks/data_source_impl.h"
#include "core/util/errors.h"
#include "core/util/python_random.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace continua::core {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw DataError(file + ": " + what); }

}  // namespace

LabelledClasses loadCifar100(const std::string& directory) {
  // Binary version: records of <coarse label (1 byte)><fine label (1 byte)><3072 pixel bytes, R then G then B>.
  const int64_t record = 2 + 3072;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  std::vector<int64_t> firstSeen;  // fine labels in order of their first record in train.bin
  for (const char* name : {"train.bin", "test.bin"}) {
    const std::string file = (fs::path(directory) / name).string();
    const std::string data = readDataFile(file);
    if (data.empty() || data.size() % record != 0)
      fail(file, "size " + std::to_string(data.size()) + " is not a multiple of the 3074-byte CIFAR-100 record");
    for (size_t off = 0; off < data.size(); off += record) {
      const int fine = static_cast<unsigned char>(data[off + 1]);
      if (fine >= 100) fail(file, "fine label " + std::to_string(fine) + " out of range 0..99 at byte " + std::to_string(off + 1));
      if (std::find(firstSeen.begin(), firstSeen.end(), fine) == firstSeen.end()) firstSeen.push_back(fine);
      labels.push_back(fine);
      pixels.insert(pixels.end(), data.begin() + off + 2, data.begin() + off + record);
    }
  }
  Tensor x = torch::from_blob(pixels.data(), {int64_t(labels.size()), 3, 32, 32}, torch::kUInt8).to(torch::kFloat32);
  LabelledClasses byLabel = groupByLabel(x * (2.0 / 255.0) - 1.0, torch::tensor(labels), directory);  // [-1, 1], as cl-as-seq
  // cl-as-seq shuffles list(data.keys()): its dict gained a key at each label's first training record.
  LabelledClasses ordered;
  for (int64_t fine : firstSeen) {
    const auto at = std::find(byLabel.labels.begin(), byLabel.labels.end(), std::to_string(fine)) - byLabel.labels.begin();
    ordered.labels.push_back(byLabel.labels[size_t(at)]);
    ordered.examples.push_back(byLabel.examples[size_t(at)]);
  }
  return ordered;
}

LabelledClasses loadImageFolder(const std::string& root, int64_t size) {
  if (!fs::is_directory(root)) fail(root, "is not a directory (expected one sub-folder per class)");
  std::vector<fs::path> classDirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) classDirs.push_back(e.path());
  std::sort(classDirs.begin(), classDirs.end());
  if (classDirs.size() < 2) fail(root, "needs at least two class sub-folders, found " + std::to_string(classDirs.size()));
  LabelledClasses perClass;
  for (const auto& dir : classDirs) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      auto ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) fail(dir.string(), "holds no .png/.jpg images");
    std::vector<Tensor> imgs;
    for (const auto& f : files) {
      int w = 0, h = 0, ch = 0;
      unsigned char* px = stbi_load(f.string().c_str(), &w, &h, &ch, 3);
      if (!px) fail(f.string(), std::string("cannot be decoded: ") + stbi_failure_reason());
      Tensor img = torch::from_blob(px, {h, w, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat32).unsqueeze(0);
      stbi_image_free(px);
      img = torch::nn::functional::interpolate(img, torch::nn::functional::InterpolateFuncOptions()
                                                        .size(std::vector<int64_t>{size, size})
                                                        .mode(torch::kBilinear)
                                                        .align_corners(false));
      imgs.push_back(img.squeeze(0) * (2.0 / 255.0) - 1.0);
    }
    perClass.labels.push_back(dir.filename().string());
    perClass.examples.push_back(torch::stack(imgs));
  }
  return perClass;
}

namespace {
// The per-coordinate standard deviation over every example, averaged over coordinates.
double coordinateScale(const std::vector<Tensor>& classes) {
  Tensor all = torch::cat(classes).flatten(1).to(torch::kFloat64);
  return all.size(0) < 2 ? 1.0 : all.std(0).mean().item<double>();
}
}  // namespace

InMemoryClasses::InMemoryClasses(LabelledClasses classes, int64_t metaTestClasses, std::string description)
    : m_description(std::move(description)) {
  // cl-as-seq: random.seed(0); random.shuffle(classes); classes[:meta_test] are held out.
  std::vector<size_t> order(classes.examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  PythonRandom(0).shuffle(order);
  for (size_t i = 0; i < order.size(); ++i) {
    const bool heldOut = int64_t(i) < metaTestClasses;
    (heldOut ? m_test : m_train).push_back(classes.examples[order[i]]);
    if (heldOut) m_testLabels.push_back(classes.labels[order[i]]);
  }
  m_scale = coordinateScale(classes.examples);
  std::string held;
  for (const auto& l : m_testLabels) held += (held.empty() ? "" : " ") + l;
  m_description += "; held out: " + held;
}

int64_t InMemoryClasses::examplesPerClass(Split s) const {
  int64_t fewest = std::numeric_limits<int64_t>::max();
  for (const auto& c : s == Split::MetaTrain ? m_train : m_test) fewest = std::min(fewest, c.size(0));
  return fewest;
}

std::vector<int64_t> InMemoryClasses::inputShape() const {
  auto s = m_train.empty() ? m_test.front().sizes() : m_train.front().sizes();
  return std::vector<int64_t>(s.begin() + 1, s.end());
}

int64_t InMemoryClasses::numClasses(Split s) const { return int64_t(s == Split::MetaTrain ? m_train.size() : m_test.size()); }

Tensor InMemoryClasses::sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) {
  const Tensor& pool = (s == Split::MetaTrain ? m_train : m_test).at(size_t(cls));
  // Without replacement, as cl-as-seq's random.sample (the runner checks every episode shape fits first).
  if (pool.size(0) < count)
    throw DataError("a class holds " + std::to_string(pool.size(0)) + " examples, the episode needs " + std::to_string(count));
  return pool.index_select(0, torch::randperm(pool.size(0), gen).slice(0, 0, count));
}

std::shared_ptr<ClassDataSource> makeDataSource(const DataSourceConfig& c) {
  if (c.kind == "synthetic") return std::make_shared<SyntheticPrototypes>(c);
  LabelledClasses perClass;
  if (c.kind == "features") perClass = loadFeatureFiles(c.path, c.labelsPath);
  else if (c.kind == "cifar100") perClass = loadCifar100(c.path);
  else if (c.kind == "image-folder") perClass = loadImageFolder(c.path, c.imageSize);
  else throw DataError("data.kind: expected synthetic, features, cifar100 or image-folder, got '" + c.kind + "'");
  const int64_t n = int64_t(perClass.examples.size());
  int64_t test = c.metaTestClasses > 0 ? c.metaTestClasses
                                       : (c.kind == "cifar100" ? 40 : std::max<int64_t>(1, std::llround(n * c.metaTestFraction)));
  if (test >= n) throw DataError(c.path + ": " + std::to_string(n) + " classes cannot hold out " + std::to_string(test) + " for meta-test");
  return std::make_shared<InMemoryClasses>(std::move(perClass), test,
                                           c.kind + " " + c.path + ": " + std::to_string(n - test) + " meta-train, " +
                                               std::to_string(test) + " meta-test classes");
}

std::vector<int64_t> drawClasses(const ClassDataSource& source, Split split, int64_t count, torch::Generator& gen) {
  const int64_t n = source.numClasses(split);
  if (count > n)
    throw DataError("episode needs " + std::to_string(count) + " classes but the " +
                    (split == Split::MetaTrain ? "meta-train" : "meta-test") + " split has only " + std::to_string(n));
  Tensor perm = torch::randperm(n, gen).slice(0, 0, count);
  return std::vector<int64_t>(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + count);
}

}  // namespace continua::core
