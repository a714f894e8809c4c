#include "core/report/canvas.h"

#include "core/util/errors.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#define STB_TRUETYPE_IMPLEMENTATION
#define STBTT_STATIC
#include <stb/stb_truetype.h>
#include <stb/stb_easy_font.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>

namespace continua::core {

namespace {

std::vector<uint32_t> codepoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    uint32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += size_t(n);
  }
  return out;
}

// The TrueType font, loaded once; empty when none of the candidates exists.
struct Font {
  std::vector<unsigned char> bytes;
  stbtt_fontinfo info{};
  bool ok = false;

  static const Font& get() {
    static const std::unique_ptr<Font> font = load();
    return *font;
  }

 private:
  static std::unique_ptr<Font> load() {
    auto f = std::make_unique<Font>();
    std::vector<std::string> candidates;
    const char* env = std::getenv("CONTINUA_REPORT_FONT");
    if (env && std::string(env) == "builtin") return f;  // stb's vector font, as where no TrueType font exists
    if (env) candidates.emplace_back(env);
    for (const char* p : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
                          "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                          "/Library/Fonts/Arial.ttf", "C:/Windows/Fonts/arial.ttf"})
      candidates.emplace_back(p);
    for (const auto& path : candidates) {
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      f->bytes.assign(std::istreambuf_iterator<char>(in), {});
      if (stbtt_InitFont(&f->info, f->bytes.data(), stbtt_GetFontOffsetForIndex(f->bytes.data(), 0))) {
        f->ok = true;
        break;
      }
    }
    return f;
  }
};

// Text rasterised into a coverage mask (width x height, row-major), baseline at `ascent` pixels from the top.
struct TextMask {
  int width = 0, height = 0;
  std::vector<float> coverage;
};

TextMask rasteriseTrueType(const Font& font, const std::vector<uint32_t>& cps, double pixels) {
  const float scale = stbtt_ScaleForPixelHeight(&font.info, float(pixels));
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&font.info, &ascent, &descent, &gap);
  TextMask m;
  double pen = 0;
  std::vector<double> x(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    x[i] = pen;
    int advance = 0, bearing = 0;
    stbtt_GetCodepointHMetrics(&font.info, int(cps[i]), &advance, &bearing);
    pen += advance * scale;
    if (i + 1 < cps.size()) pen += scale * stbtt_GetCodepointKernAdvance(&font.info, int(cps[i]), int(cps[i + 1]));
  }
  m.width = int(std::ceil(pen)) + 2;
  m.height = int(std::ceil(pixels)) + 2;
  m.coverage.assign(size_t(m.width) * size_t(m.height), 0.f);
  const int baseline = int(std::lround(ascent * scale));
  for (size_t i = 0; i < cps.size(); ++i) {
    const float shift = float(x[i] - std::floor(x[i]));
    int w = 0, h = 0, xo = 0, yo = 0;
    unsigned char* bmp = stbtt_GetCodepointBitmapSubpixel(&font.info, scale, scale, shift, 0, int(cps[i]), &w, &h, &xo, &yo);
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) {
        const int px = int(std::floor(x[i])) + xo + c + 1, py = baseline + yo + r;
        if (px < 0 || py < 0 || px >= m.width || py >= m.height) continue;
        float& dst = m.coverage[size_t(py) * size_t(m.width) + size_t(px)];
        dst = std::min(1.f, dst + bmp[r * w + c] / 255.f);
      }
    stbtt_FreeBitmap(bmp, nullptr);
  }
  return m;
}

// stb_easy_font: ASCII quads about 7 units tall; anything else is drawn as '?'.
TextMask rasteriseBuiltIn(const std::vector<uint32_t>& cps, double pixels) {
  std::string ascii;
  for (uint32_t cp : cps) ascii.push_back(cp >= 32 && cp < 127 ? char(cp) : '?');
  const double s = pixels / 10.0;
  TextMask m;
  m.width = int(std::ceil(stb_easy_font_width(const_cast<char*>(ascii.c_str())) * s)) + 2;
  m.height = int(std::ceil(pixels)) + 2;
  m.coverage.assign(size_t(m.width) * size_t(m.height), 0.f);
  std::vector<char> buffer(ascii.size() * 300 + 64);
  const int quads = stb_easy_font_print(0, 1, const_cast<char*>(ascii.c_str()), nullptr, buffer.data(), int(buffer.size()));
  const auto* v = reinterpret_cast<const float*>(buffer.data());
  for (int q = 0; q < quads; ++q) {
    const float* quad = v + q * 16;  // 4 vertices of x, y, z, colour
    const double x0 = quad[0] * s, y0 = quad[1] * s, x1 = quad[8] * s, y1 = quad[9] * s;
    for (int py = int(y0); py < int(std::ceil(y1)) && py < m.height; ++py)
      for (int px = int(x0); px < int(std::ceil(x1)) && px < m.width; ++px) {
        const double cover = std::clamp(std::min(px + 1.0, x1) - std::max(double(px), x0), 0.0, 1.0) *
                             std::clamp(std::min(py + 1.0, y1) - std::max(double(py), y0), 0.0, 1.0);
        float& dst = m.coverage[size_t(py) * size_t(m.width) + size_t(px)];
        dst = std::min(1.f, dst + float(cover));
      }
  }
  return m;
}

TextMask rasterise(const std::string& utf8, double pixels) {
  const Font& font = Font::get();
  const auto cps = codepoints(utf8);
  return font.ok ? rasteriseTrueType(font, cps, pixels) : rasteriseBuiltIn(cps, pixels);
}

double offsetFor(Align a, double extent) { return a == Align::Start ? 0 : a == Align::Middle ? -extent / 2 : -extent; }

double distanceToSegment(Point p, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// The pieces of a polyline that a dash pattern keeps, by arc length.
std::vector<std::vector<Point>> dashes(const std::vector<Point>& pts, double on, double off) {
  std::vector<std::vector<Point>> out(1);
  double phase = 0;
  bool drawing = true;
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    Point a = pts[i];
    const Point b = pts[i + 1];
    double remaining = std::hypot(b.x - a.x, b.y - a.y);
    if (drawing && out.back().empty()) out.back().push_back(a);
    while (remaining > 0) {
      const double left = (drawing ? on : off) - phase;
      const double step = std::min(left, remaining);
      const double t = step / remaining;
      a = {a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t};
      remaining -= step;
      phase += step;
      if (drawing) out.back().push_back(a);
      if (phase >= (drawing ? on : off) - 1e-9) {
        phase = 0;
        drawing = !drawing;
        if (drawing) out.push_back({a});
      }
    }
  }
  return out;
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb background) : m_w(width), m_h(height), m_rgb(size_t(width) * size_t(height) * 3) {
  for (size_t i = 0; i < m_rgb.size(); i += 3) {
    m_rgb[i] = background.r;
    m_rgb[i + 1] = background.g;
    m_rgb[i + 2] = background.b;
  }
}

void Canvas::blend(int x, int y, Rgb c, double alpha) {
  if (x < 0 || y < 0 || x >= m_w || y >= m_h || alpha <= 0) return;
  alpha = std::min(alpha, 1.0);
  uint8_t* p = &m_rgb[(size_t(y) * size_t(m_w) + size_t(x)) * 3];
  p[0] = uint8_t(std::lround(p[0] + (c.r - p[0]) * alpha));
  p[1] = uint8_t(std::lround(p[1] + (c.g - p[1]) * alpha));
  p[2] = uint8_t(std::lround(p[2] + (c.b - p[2]) * alpha));
}

void Canvas::blendMask(const std::vector<float>& mask, int x0, int y0, int w, int h, Rgb c, double alpha) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float m = mask[size_t(y) * size_t(w) + size_t(x)];
      if (m > 0) blend(x0 + x, y0 + y, c, m * alpha);
    }
}

Rgb Canvas::pixel(int x, int y) const {
  const uint8_t* p = &m_rgb[(size_t(y) * size_t(m_w) + size_t(x)) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::fillRect(double x0, double y0, double x1, double y1, Rgb c, double alpha) {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  for (int y = std::max(0, int(std::floor(y0))); y < std::min(m_h, int(std::ceil(y1))); ++y)
    for (int x = std::max(0, int(std::floor(x0))); x < std::min(m_w, int(std::ceil(x1))); ++x) {
      const double cover = std::clamp(std::min(x + 1.0, x1) - std::max(double(x), x0), 0.0, 1.0) *
                           std::clamp(std::min(y + 1.0, y1) - std::max(double(y), y0), 0.0, 1.0);
      blend(x, y, c, cover * alpha);
    }
}

void Canvas::polyline(const std::vector<Point>& points, Rgb c, double width, bool dashed, double alpha) {
  if (points.size() < 2) return;
  if (dashed) {
    for (const auto& piece : dashes(points, 8.0, 5.0)) polyline(piece, c, width, false, alpha);
    return;
  }
  double minX = m_w, minY = m_h, maxX = 0, maxY = 0;
  for (const auto& p : points) {
    minX = std::min(minX, p.x); maxX = std::max(maxX, p.x);
    minY = std::min(minY, p.y); maxY = std::max(maxY, p.y);
  }
  const double pad = width / 2 + 1;
  const int x0 = std::max(0, int(std::floor(minX - pad))), y0 = std::max(0, int(std::floor(minY - pad)));
  const int x1 = std::min(m_w, int(std::ceil(maxX + pad))), y1 = std::min(m_h, int(std::ceil(maxY + pad)));
  if (x1 <= x0 || y1 <= y0) return;
  const int w = x1 - x0, h = y1 - y0;
  std::vector<float> mask(size_t(w) * size_t(h), 0.f);  // the maximum coverage of any segment: joints blend once
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const Point a = points[i], b = points[i + 1];
    const int sx0 = std::max(x0, int(std::floor(std::min(a.x, b.x) - pad))), sx1 = std::min(x1, int(std::ceil(std::max(a.x, b.x) + pad)));
    const int sy0 = std::max(y0, int(std::floor(std::min(a.y, b.y) - pad))), sy1 = std::min(y1, int(std::ceil(std::max(a.y, b.y) + pad)));
    for (int y = sy0; y < sy1; ++y)
      for (int x = sx0; x < sx1; ++x) {
        const double d = distanceToSegment({x + 0.5, y + 0.5}, a, b);
        const float cover = float(std::clamp(width / 2 + 0.5 - d, 0.0, 1.0));
        float& m = mask[size_t(y - y0) * size_t(w) + size_t(x - x0)];
        m = std::max(m, cover);
      }
  }
  blendMask(mask, x0, y0, w, h, c, alpha);
}

void Canvas::fillPolygon(const std::vector<Point>& pts, Rgb c, double alpha) {
  if (pts.size() < 3) return;
  double minY = m_h, maxY = 0;
  for (const auto& p : pts) { minY = std::min(minY, p.y); maxY = std::max(maxY, p.y); }
  const int y0 = std::max(0, int(std::floor(minY))), y1 = std::min(m_h, int(std::ceil(maxY)));
  constexpr int kSub = 4;
  std::vector<float> row(static_cast<size_t>(m_w));
  std::vector<double> xs;
  for (int y = y0; y < y1; ++y) {
    std::fill(row.begin(), row.end(), 0.f);
    for (int sy = 0; sy < kSub; ++sy) {
      const double yy = y + (sy + 0.5) / kSub;
      xs.clear();
      for (size_t i = 0; i < pts.size(); ++i) {
        const Point a = pts[i], b = pts[(i + 1) % pts.size()];
        if ((a.y <= yy) != (b.y <= yy)) xs.push_back(a.x + (yy - a.y) / (b.y - a.y) * (b.x - a.x));
      }
      std::sort(xs.begin(), xs.end());
      for (size_t k = 0; k + 1 < xs.size(); k += 2) {  // sub-samples (sx + 0.5) / kSub inside [xs[k], xs[k+1]]
        const int first = std::max(0, int(std::ceil(xs[k] * kSub - 0.5)));
        const int last = std::min(m_w * kSub - 1, int(std::floor(xs[k + 1] * kSub - 0.5)));
        for (int sx = first; sx <= last; ++sx) row[size_t(sx / kSub)] += 1.f / (kSub * kSub);
      }
    }
    for (int x = 0; x < m_w; ++x)
      if (row[size_t(x)] > 0) blend(x, y, c, row[size_t(x)] * alpha);
  }
}

void Canvas::disc(Point centre, double radius, Rgb c) {
  for (int y = int(centre.y - radius - 1); y <= int(centre.y + radius + 1); ++y)
    for (int x = int(centre.x - radius - 1); x <= int(centre.x + radius + 1); ++x) {
      const double d = std::hypot(x + 0.5 - centre.x, y + 0.5 - centre.y);
      blend(x, y, c, std::clamp(radius + 0.5 - d, 0.0, 1.0));
    }
}

double Canvas::textWidth(const std::string& utf8, double pixels) const { return rasterise(utf8, pixels).width; }

void Canvas::text(double x, double y, const std::string& utf8, double pixels, Rgb c, Align h, Align v, bool vertical) {
  const TextMask m = rasterise(utf8, pixels);
  if (!vertical) {
    blendMask(m.coverage, int(std::lround(x + offsetFor(h, m.width))), int(std::lround(y + offsetFor(v, m.height))), m.width,
              m.height, c, 1.0);
    return;
  }
  // Rotated 90° anticlockwise: the text's columns run up the canvas, its rows to the right.
  const int left = int(std::lround(x + offsetFor(v, m.height))), bottom = int(std::lround(y - offsetFor(h, m.width)));
  for (int r = 0; r < m.height; ++r)
    for (int col = 0; col < m.width; ++col) {
      const float cover = m.coverage[size_t(r) * size_t(m.width) + size_t(col)];
      if (cover > 0) blend(left + r, bottom - col, c, cover);
    }
}

void Canvas::savePng(const std::string& path) const {
  if (!stbi_write_png(path.c_str(), m_w, m_h, 3, m_rgb.data(), m_w * 3))
    throw StoreError("cannot write the figure " + path + " (is its folder writable?)");
}

Rgb colourMap(double t) {
  // Anchors of matplotlib's viridis at 0, 0.25, 0.5, 0.75, 1.
  static const double anchors[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  if (!std::isfinite(t)) return {200, 200, 200};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, int(t));
  const double f = t - i;
  auto mix = [&](int k) { return uint8_t(std::lround(anchors[i][k] + (anchors[i + 1][k] - anchors[i][k]) * f)); };
  return {mix(0), mix(1), mix(2)};
}

}  // namespace continua::core
