#pragma once
// A small anti-aliased raster canvas that writes PNG, so reports can draw figures without Qt (the headless
// CLI on a GPU server must render them too). Lines and polygons are drawn with per-pixel coverage; text uses
// a TrueType font found on the system (DejaVu Sans, or $CONTINUA_REPORT_FONT), else stb's built-in vector
// font (ASCII only, coarse; CONTINUA_REPORT_FONT=builtin forces it) so a report never fails for want of a font.
#include <cstdint>
#include <string>
#include <vector>

namespace continua::core {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

struct Point {
  double x = 0, y = 0;
};

enum class Align { Start, Middle, End };

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return m_w; }
  int height() const { return m_h; }

  void fillRect(double x0, double y0, double x1, double y1, Rgb c, double alpha = 1);
  // A polyline of the given width; dashed draws 8-on 5-off by arc length. Joints are not drawn twice.
  void polyline(const std::vector<Point>& points, Rgb c, double width, bool dashed = false, double alpha = 1);
  void line(Point a, Point b, Rgb c, double width, double alpha = 1) { polyline({a, b}, c, width, false, alpha); }
  void fillPolygon(const std::vector<Point>& points, Rgb c, double alpha);  // even-odd, 4x4 supersampled
  void disc(Point centre, double radius, Rgb c);

  // Text of `pixels` height anchored at (x, y) by the alignments; vertical runs bottom to top.
  void text(double x, double y, const std::string& utf8, double pixels, Rgb c, Align h = Align::Start,
            Align v = Align::End, bool vertical = false);
  double textWidth(const std::string& utf8, double pixels) const;

  // Writes the canvas as an 8-bit RGB PNG; throws StoreError naming the file when it cannot.
  void savePng(const std::string& path) const;
  Rgb pixel(int x, int y) const;

 private:
  void blend(int x, int y, Rgb c, double alpha);
  void blendMask(const std::vector<float>& mask, int x0, int y0, int w, int h, Rgb c, double alpha);
  int m_w, m_h;
  std::vector<uint8_t> m_rgb;
};

// Viridis-like colour for t in [0, 1] (heat maps).
Rgb colourMap(double t);

}  // namespace continua::core
