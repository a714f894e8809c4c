#pragma once
// Fixed-width text tables for the CLI's reports (check-kernels, bench, list, show).
#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace continua::core {

// A number with a fixed count of decimals, for table cells.
inline std::string formatFixed(double v, int decimals) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : m_header(std::move(header)) {}
  void addRow(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  bool empty() const { return m_rows.empty(); }

  void print(std::ostream& out) const {
    std::vector<size_t> width(m_header.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    };
    widen(m_header);
    for (const auto& r : m_rows) widen(r);
    auto line = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < width.size(); ++i) {
        const std::string cell = i < r.size() ? r[i] : "";
        out << cell << std::string(width[i] - cell.size() + (i + 1 < width.size() ? 2 : 0), ' ');
      }
      out << "\n";
    };
    line(m_header);
    size_t total = 0;
    for (size_t w : width) total += w + 2;
    out << std::string(total > 2 ? total - 2 : 0, '-') << "\n";
    for (const auto& r : m_rows) line(r);
  }

 private:
  std::vector<std::string> m_header;
  std::vector<std::vector<std::string>> m_rows;
};

}  // namespace continua::core
