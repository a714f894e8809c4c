// File-backed MCL sources: pre-extracted feature files (.npy + labels .npy, or one CSV), CIFAR-100 in its
// published binary format, and image folders (one sub-folder per class, PNG/JPEG via stb_image).
#include "core/tasks/data_source_impl.h"
#include "core/util/errors.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace continua::core {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw DataError(file + ": " + what); }

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be opened (does it exist?)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Tensor> groupByLabel(const Tensor& x, const Tensor& labels, const std::string& file) {
  if (labels.dim() != 1 || labels.size(0) != x.size(0))
    fail(file, "expected one label per example: " + std::to_string(x.size(0)) + " examples, " +
                   std::to_string(labels.numel()) + " labels");
  std::map<int64_t, std::vector<int64_t>> rows;
  auto lab = labels.to(torch::kLong).contiguous();
  const int64_t* lp = lab.data_ptr<int64_t>();
  for (int64_t i = 0; i < lab.size(0); ++i) rows[lp[i]].push_back(i);
  std::vector<Tensor> out;
  for (auto& [label, idx] : rows) out.push_back(x.index_select(0, torch::tensor(idx, torch::kLong)));
  return out;
}

}  // namespace

Tensor readNpy(const std::string& path) {
  const std::string data = readAll(path);
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0) fail(path, "not a .npy file (missing \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(data[6]);
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(data[8]) | (static_cast<unsigned char>(data[9]) << 8);
    offset = 10;
  } else {
    if (data.size() < 12) fail(path, "truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i) headerLen |= size_t(static_cast<unsigned char>(data[8 + i])) << (8 * i);
    offset = 12;
  }
  if (offset + headerLen > data.size()) fail(path, "truncated .npy header");
  const std::string header = data.substr(offset, headerLen);
  auto field = [&](const std::string& key) {
    auto p = header.find("'" + key + "'");
    if (p == std::string::npos) fail(path, "npy header has no '" + key + "'");
    return p + key.size() + 3;
  };
  size_t d = header.find('\'', field("descr")) + 1;
  const std::string descr = header.substr(d, header.find('\'', d) - d);
  if (header.find("True", field("fortran_order")) < header.find(',', field("fortran_order")))
    fail(path, "Fortran-order arrays are not supported (save with C order)");
  size_t sp = header.find('(', field("shape")), se = header.find(')', sp);
  std::vector<int64_t> shape;
  std::stringstream ss(header.substr(sp + 1, se - sp - 1));
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
    if (!item.empty()) shape.push_back(std::stoll(item));
  }
  torch::ScalarType type;
  size_t elem;
  if (descr == "<f4") { type = torch::kFloat32; elem = 4; }
  else if (descr == "<f8") { type = torch::kFloat64; elem = 8; }
  else if (descr == "<i4") { type = torch::kInt32; elem = 4; }
  else if (descr == "<i8") { type = torch::kInt64; elem = 8; }
  else fail(path, "unsupported dtype '" + descr + "' (expected <f4, <f8, <i4 or <i8)");
  int64_t count = 1;
  for (int64_t s : shape) count *= s;
  const size_t start = offset + headerLen;
  if (data.size() - start < size_t(count) * elem)
    fail(path, "truncated: header promises " + std::to_string(count) + " values, file holds " +
                   std::to_string((data.size() - start) / elem));
  Tensor t = torch::empty(shape, type);
  std::memcpy(t.data_ptr(), data.data() + start, size_t(count) * elem);
  return t;
}

std::vector<Tensor> loadFeatureFiles(const std::string& features, const std::string& labels) {
  if (fs::path(features).extension() == ".csv") {
    // CSV: label,f1,f2,...  (an optional header line is skipped when its first field is not a number)
    std::ifstream in(features);
    if (!in) fail(features, "cannot be opened (does it exist?)");
    std::vector<float> values;
    std::vector<int64_t> labs;
    std::string line;
    int64_t width = -1, lineNo = 0;
    while (std::getline(in, line)) {
      ++lineNo;
      if (line.empty()) continue;
      std::stringstream ls(line);
      std::string cell;
      std::vector<std::string> cells;
      while (std::getline(ls, cell, ',')) cells.push_back(cell);
      try {
        int64_t lab = std::stoll(cells.at(0));
        if (width < 0) width = int64_t(cells.size()) - 1;
        if (int64_t(cells.size()) - 1 != width)
          fail(features, "line " + std::to_string(lineNo) + " has " + std::to_string(cells.size() - 1) +
                             " features, expected " + std::to_string(width));
        for (size_t i = 1; i < cells.size(); ++i) values.push_back(std::stof(cells[i]));
        labs.push_back(lab);
      } catch (const std::invalid_argument&) {
        if (lineNo == 1) continue;  // header
        fail(features, "line " + std::to_string(lineNo) + " is not 'label,feature,...' numbers");
      }
    }
    if (labs.empty() || width <= 0) fail(features, "no examples found (expected lines 'label,f1,f2,...')");
    Tensor x = torch::from_blob(values.data(), {int64_t(labs.size()), width}).clone();
    return groupByLabel(x, torch::tensor(labs), features);
  }
  Tensor x = readNpy(features);
  if (x.dim() != 2) fail(features, "expected a 2-D (examples, features) array, got " + std::to_string(x.dim()) + "-D");
  if (labels.empty()) fail(features, "a .npy feature file needs data.labels_path (a .npy of integer labels)");
  Tensor y = readNpy(labels);
  if (y.is_floating_point()) fail(labels, "labels must be integers (<i4 or <i8)");
  return groupByLabel(x.to(torch::kFloat32), y, labels);
}

std::vector<Tensor> loadCifar100(const std::string& directory) {
  // Binary version: records of <coarse label (1 byte)><fine label (1 byte)><3072 pixel bytes, R then G then B>.
  const int64_t record = 2 + 3072;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const char* name : {"train.bin", "test.bin"}) {
    const std::string file = (fs::path(directory) / name).string();
    const std::string data = readAll(file);
    if (data.empty() || data.size() % record != 0)
      fail(file, "size " + std::to_string(data.size()) + " is not a multiple of the 3074-byte CIFAR-100 record");
    for (size_t off = 0; off < data.size(); off += record) {
      const int fine = static_cast<unsigned char>(data[off + 1]);
      if (fine >= 100) fail(file, "fine label " + std::to_string(fine) + " out of range 0..99 at byte " + std::to_string(off + 1));
      labels.push_back(fine);
      pixels.insert(pixels.end(), data.begin() + off + 2, data.begin() + off + record);
    }
  }
  Tensor x = torch::from_blob(pixels.data(), {int64_t(labels.size()), 3, 32, 32}, torch::kUInt8).to(torch::kFloat32);
  return groupByLabel(x * (2.0 / 255.0) - 1.0, torch::tensor(labels), directory);  // [-1, 1], as cl-as-seq
}

std::vector<Tensor> loadImageFolder(const std::string& root, int64_t size) {
  if (!fs::is_directory(root)) fail(root, "is not a directory (expected one sub-folder per class)");
  std::vector<fs::path> classDirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) classDirs.push_back(e.path());
  std::sort(classDirs.begin(), classDirs.end());
  if (classDirs.size() < 2) fail(root, "needs at least two class sub-folders, found " + std::to_string(classDirs.size()));
  std::vector<Tensor> perClass;
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
    perClass.push_back(torch::stack(imgs));
  }
  return perClass;
}

InMemoryClasses::InMemoryClasses(std::vector<Tensor> perClass, int64_t metaTestClasses, std::string description)
    : m_description(std::move(description)) {
  std::vector<size_t> order(perClass.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(0));  // fixed split, as cl-as-seq's random.seed(0)
  for (size_t i = 0; i < order.size(); ++i) (int64_t(i) < metaTestClasses ? m_test : m_train).push_back(perClass[order[i]]);
}

std::vector<int64_t> InMemoryClasses::inputShape() const {
  auto s = m_train.empty() ? m_test.front().sizes() : m_train.front().sizes();
  return std::vector<int64_t>(s.begin() + 1, s.end());
}

int64_t InMemoryClasses::numClasses(Split s) const { return int64_t(s == Split::MetaTrain ? m_train.size() : m_test.size()); }

Tensor InMemoryClasses::sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) {
  const Tensor& pool = (s == Split::MetaTrain ? m_train : m_test).at(size_t(cls));
  // Without replacement while the class has enough examples, with replacement beyond.
  Tensor idx = pool.size(0) >= count ? torch::randperm(pool.size(0), gen).slice(0, 0, count)
                                     : torch::randint(pool.size(0), {count}, gen);
  return pool.index_select(0, idx);
}

std::shared_ptr<ClassDataSource> makeDataSource(const DataSourceConfig& c) {
  if (c.kind == "synthetic") return std::make_shared<SyntheticPrototypes>(c);
  std::vector<Tensor> perClass;
  if (c.kind == "features") perClass = loadFeatureFiles(c.path, c.labelsPath);
  else if (c.kind == "cifar100") perClass = loadCifar100(c.path);
  else if (c.kind == "image-folder") perClass = loadImageFolder(c.path, c.imageSize);
  else throw DataError("data.kind: expected synthetic, features, cifar100 or image-folder, got '" + c.kind + "'");
  const int64_t n = int64_t(perClass.size());
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
