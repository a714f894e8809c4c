// Feature files for MCL: .npy arrays (with a labels .npy) and CSV. Values are parsed without the locale
// (std::from_chars: "0.25" is a quarter whatever LC_NUMERIC says), quoted CSV fields are accepted, and every
// bad or non-finite value is reported with its file, line (row) and column.
#include "core/tasks/data_source_impl.h"
#include "core/util/errors.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace continua::core {
using torch::Tensor;

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw DataError(file + ": " + what); }

// One CSV record's fields (RFC 4180: quotes around a field, "" inside quotes for one quote).
std::vector<std::string> splitCsv(const std::string& line, const std::string& file, int64_t lineNo) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { cells.back() += '"'; ++i; }
      else if (c == '"') quoted = false;
      else cells.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  if (quoted) fail(file, "line " + std::to_string(lineNo) + ": a quoted field is not closed");
  return cells;
}

std::string trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

template <typename T>
bool parseNumber(const std::string& text, T& out) {
  const std::string t = trimmed(text);
  if (t.empty()) return false;
  const char* begin = t.data() + (t[0] == '+' ? 1 : 0);
  auto [end, ec] = std::from_chars(begin, t.data() + t.size(), out);
  return ec == std::errc() && end == t.data() + t.size();
}

// The first non-finite value of a 2-D float array, as (row, column), or (-1, -1).
std::pair<int64_t, int64_t> firstNonFinite(const Tensor& x) {
  Tensor bad = ~torch::isfinite(x);
  if (!bad.any().item<bool>()) return {-1, -1};
  Tensor at = bad.nonzero()[0];
  return {at[0].item<int64_t>(), at[1].item<int64_t>()};
}

}  // namespace

std::string readDataFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    fail(path, "is not a regular file (a directory or a device cannot be read as data)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be opened (does it exist?)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}


LabelledClasses groupByLabel(const Tensor& x, const Tensor& labels, const std::string& file) {
  if (labels.dim() != 1 || labels.size(0) != x.size(0))
    fail(file, "expected one label per example: " + std::to_string(x.size(0)) + " examples, " +
                   std::to_string(labels.numel()) + " labels");
  std::map<int64_t, std::vector<int64_t>> rows;
  Tensor lab = labels.to(torch::kLong).contiguous();
  const int64_t* lp = lab.data_ptr<int64_t>();
  for (int64_t i = 0; i < lab.size(0); ++i) rows[lp[i]].push_back(i);
  LabelledClasses out;
  for (auto& [label, idx] : rows) {
    out.labels.push_back(std::to_string(label));
    out.examples.push_back(x.index_select(0, torch::tensor(idx, torch::kLong)));
  }
  return out;
}

Tensor readNpy(const std::string& path) {
  const std::string data = readDataFile(path);
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
    int64_t v = 0;
    if (trimmed(item).empty()) continue;
    if (!parseNumber(item, v) || v < 0) fail(path, "npy header has a bad shape entry '" + trimmed(item) + "'");
    shape.push_back(v);
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

LabelledClasses readFeatureCsv(const std::string& path) {
  // label,f1,f2,...  (an optional header line is skipped when its first field is not a number)
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    fail(path, "is not a regular file (a directory or a device cannot be read as data)");
  std::ifstream in(path);
  if (!in) fail(path, "cannot be opened (does it exist?)");
  std::vector<float> values;
  std::vector<int64_t> labels;
  std::string line;
  int64_t width = -1, lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (trimmed(line).empty()) continue;
    const std::vector<std::string> cells = splitCsv(line, path, lineNo);
    int64_t label = 0;
    if (!parseNumber(cells[0], label)) {
      if (width < 0 && labels.empty()) continue;  // the header
      fail(path, "line " + std::to_string(lineNo) + ", column 1: the label '" + trimmed(cells[0]) + "' is not an integer");
    }
    if (width < 0) width = int64_t(cells.size()) - 1;
    if (int64_t(cells.size()) - 1 != width)
      fail(path, "line " + std::to_string(lineNo) + " has " + std::to_string(cells.size() - 1) + " features, expected " +
                     std::to_string(width));
    for (size_t i = 1; i < cells.size(); ++i) {
      float v = 0;
      if (!parseNumber(cells[i], v) || !std::isfinite(v))
        fail(path, "line " + std::to_string(lineNo) + ", column " + std::to_string(i + 1) + ": '" + trimmed(cells[i]) +
                       "' is not a finite number");
      values.push_back(v);
    }
    labels.push_back(label);
  }
  if (labels.empty() || width <= 0) fail(path, "no examples found (expected lines 'label,f1,f2,...')");
  Tensor x = torch::from_blob(values.data(), {int64_t(labels.size()), width}).clone();
  return groupByLabel(x, torch::tensor(labels), path);
}

LabelledClasses loadFeatureFiles(const std::string& features, const std::string& labels) {
  if (features.size() >= 4 && features.compare(features.size() - 4, 4, ".csv") == 0) return readFeatureCsv(features);
  Tensor x = readNpy(features);
  if (x.dim() != 2) fail(features, "expected a 2-D (examples, features) array, got " + std::to_string(x.dim()) + "-D");
  if (labels.empty()) fail(features, "a .npy feature file needs its labels .npy (data.labels_path)");
  x = x.to(torch::kFloat32);
  if (auto [row, col] = firstNonFinite(x); row >= 0)
    fail(features, "row " + std::to_string(row) + ", column " + std::to_string(col) + " is not a finite number (" +
                       std::to_string(x[row][col].item<float>()) + ")");
  Tensor y = readNpy(labels);
  if (y.is_floating_point()) fail(labels, "labels must be integers (<i4 or <i8)");
  return groupByLabel(x, y, labels);
}

}  // namespace continua::core
