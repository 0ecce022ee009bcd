using System.Globalization;
using System.Net;
using System.Text;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// A small SVG chart: a plot area with "nice" ticks, grid lines, axis labels, a title and a legend, and points, lines,
/// text and filled steps in data coordinates. Inline SVG keeps the report one self-contained file with crisp plots.
/// </summary>
/// <remarks>
/// The fallback renderer: the report's plots are drawn with ScottPlot when the plotting folder is present
/// (<see cref="ScottPlotRenderer"/>), and with this chart when it is not, from the same <see cref="PlotSpec"/>.
/// </remarks>
internal sealed class SvgChart
{
    private const double Left = 70, Right = 20, Top = 40, Bottom = 55;
    private readonly StringBuilder _body = new();
    private readonly List<(string Label, string Color, bool Line)> _legend = new();
    private readonly double _width, _height;
    private double _x0, _x1, _y0, _y1;

    public SvgChart(double width, double height, string title, string xLabel, string yLabel)
    {
        _width = width;
        _height = height;
        Title = title;
        XLabel = xLabel;
        YLabel = yLabel;
    }

    public string Title { get; }

    public string XLabel { get; }

    public string YLabel { get; }

    /// <summary>Sets the data ranges (each widened to nice tick limits; an empty range is widened around its value).</summary>
    /// <param name="xMin">Smallest x of the data.</param>
    /// <param name="xMax">Largest x of the data.</param>
    /// <param name="yMin">Smallest y of the data.</param>
    /// <param name="yMax">Largest y of the data.</param>
    /// <param name="yFromZero">Start the y axis exactly at 0 (histograms), when the data are non-negative.</param>
    public void SetRanges(double xMin, double xMax, double yMin, double yMax, bool yFromZero = false)
    {
        (_x0, _x1) = Widen(xMin, xMax);
        (_y0, _y1) = Widen(yMin, yMax);
        if (yFromZero && yMin >= 0) _y0 = 0;
    }

    /// <summary>Sets the axis limits exactly (already padded and rounded, as <see cref="Widen"/> does).</summary>
    public void SetExactRanges(double xMin, double xMax, double yMin, double yMax) => (_x0, _x1, _y0, _y1) = (xMin, xMax, yMin, yMax);

    /// <summary>Draws a <see cref="PlotSpec"/>: histograms first, then lines, markers with their labels, vertical lines, legend.</summary>
    public static string Render(PlotSpec spec)
    {
        var chart = new SvgChart(spec.Width, spec.Height, spec.Title, spec.XLabel, spec.YLabel);
        chart.SetExactRanges(spec.XRange[0], spec.XRange[1], spec.YRange[0], spec.YRange[1]);
        foreach (var s in spec.Steps) chart.Steps(s.Edges, s.Heights, s.Color, s.FillOpacity);
        foreach (var l in spec.Lines) chart.Line(l.Points.Select(p => (p[0], p[1])).ToList(), l.Color, l.Width, l.Dashed);
        foreach (var m in spec.Markers)
        {
            chart.Point(m.X, m.Y, m.Color, m.Size / 2, m.Tooltip ?? m.Label ?? "", m.Shape);
            if (m.Label is { Length: > 0 } label) chart.Label(m.X, m.Y, label);
        }
        foreach (var v in spec.VerticalLines) chart.VerticalLine(v.X, v.Color, v.Label ?? "", v.Dashed);
        foreach (var e in spec.Legend) chart.Legend(e.Label, e.Color, line: e.Kind == "line");
        return chart.Render();
    }

    private double PlotWidth => _width - Left - Right;

    private double PlotHeight => _height - Top - Bottom;

    private double Px(double x) => Left + (x - _x0) / (_x1 - _x0) * PlotWidth;

    private double Py(double y) => Top + PlotHeight - (y - _y0) / (_y1 - _y0) * PlotHeight;

    /// <summary>A marker with a hover title.</summary>
    public void Point(double x, double y, string color, double radius, string tooltip, string shape = "circle")
    {
        double px = Px(x), py = Py(y);
        if (shape == "square")
            _body.Append(Inv($"<rect x=\"{px - radius:F1}\" y=\"{py - radius:F1}\" width=\"{2 * radius:F1}\" height=\"{2 * radius:F1}\" fill=\"{color}\" stroke=\"#222\" stroke-width=\"1\">"));
        else
            _body.Append(Inv($"<circle cx=\"{px:F1}\" cy=\"{py:F1}\" r=\"{radius:F1}\" fill=\"{color}\" stroke=\"#222\" stroke-width=\"1\">"));
        _body.Append("<title>").Append(Escape(tooltip)).Append("</title>");
        _body.Append(shape == "square" ? "</rect>\n" : "</circle>\n");
    }

    /// <summary>A label beside a data point.</summary>
    public void Label(double x, double y, string text, double dx = 7, double dy = -6) =>
        _body.Append(Inv($"<text x=\"{Px(x) + dx:F1}\" y=\"{Py(y) + dy:F1}\" font-size=\"11\" fill=\"#333\">{Escape(text)}</text>\n"));

    /// <summary>A polyline through data points.</summary>
    public void Line(IReadOnlyList<(double X, double Y)> points, string color, double width = 2, bool dashed = false)
    {
        if (points.Count < 2) return;
        var sb = new StringBuilder();
        foreach (var (x, y) in points) sb.Append(Inv($"{Px(x):F1},{Py(y):F1} "));
        _body.Append(Inv($"<polyline points=\"{sb.ToString().TrimEnd()}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width:F1}\"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/>\n"));
    }

    /// <summary>A step outline over bins (edges has one more entry than heights), filled with a translucent colour.</summary>
    public void Steps(IReadOnlyList<double> edges, IReadOnlyList<double> heights, string color, double fillOpacity = 0.25)
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"{Px(edges[0]):F1},{Py(_y0):F1} "));
        for (int i = 0; i < heights.Count; i++)
            sb.Append(Inv($"{Px(edges[i]):F1},{Py(heights[i]):F1} {Px(edges[i + 1]):F1},{Py(heights[i]):F1} "));
        sb.Append(Inv($"{Px(edges[^1]):F1},{Py(_y0):F1}"));
        _body.Append(Inv($"<polygon points=\"{sb}\" fill=\"{color}\" fill-opacity=\"{fillOpacity:F2}\" stroke=\"{color}\" stroke-width=\"2\"/>\n"));
    }

    /// <summary>A vertical line across the plot area with a label at its top.</summary>
    public void VerticalLine(double x, string color, string label, bool dashed = true)
    {
        _body.Append(Inv($"<line x1=\"{Px(x):F1}\" y1=\"{Top:F1}\" x2=\"{Px(x):F1}\" y2=\"{Top + PlotHeight:F1}\" stroke=\"{color}\" stroke-width=\"1.5\"{(dashed ? " stroke-dasharray=\"4 3\"" : "")}/>\n"));
        _body.Append(Inv($"<text x=\"{Px(x) + 4:F1}\" y=\"{Top + PlotHeight - 6:F1}\" font-size=\"11\" fill=\"{color}\">{Escape(label)}</text>\n"));
    }

    /// <summary>Adds a legend entry (a swatch or a line of the colour).</summary>
    public void Legend(string label, string color, bool line = false) => _legend.Add((label, color, line));

    /// <summary>The finished SVG element.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"<svg width=\"{_width:F0}\" height=\"{_height:F0}\" viewBox=\"0 0 {_width:F0} {_height:F0}\" font-family=\"sans-serif\" role=\"img\">\n"));
        sb.Append("<title>").Append(Escape(Title)).Append("</title>\n");
        sb.Append(Inv($"<rect x=\"0\" y=\"0\" width=\"{_width:F0}\" height=\"{_height:F0}\" fill=\"#ffffff\"/>\n"));
        sb.Append(Inv($"<text x=\"{_width / 2:F1}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(Title)}</text>\n"));
        foreach (double t in Ticks(_x0, _x1))
        {
            sb.Append(Inv($"<line x1=\"{Px(t):F1}\" y1=\"{Top:F1}\" x2=\"{Px(t):F1}\" y2=\"{Top + PlotHeight:F1}\" stroke=\"#e4e4e4\"/>\n"));
            sb.Append(Inv($"<text x=\"{Px(t):F1}\" y=\"{Top + PlotHeight + 16:F1}\" text-anchor=\"middle\" font-size=\"11\">{FormatTick(t, _x1 - _x0)}</text>\n"));
        }
        foreach (double t in Ticks(_y0, _y1))
        {
            sb.Append(Inv($"<line x1=\"{Left:F1}\" y1=\"{Py(t):F1}\" x2=\"{Left + PlotWidth:F1}\" y2=\"{Py(t):F1}\" stroke=\"#e4e4e4\"/>\n"));
            sb.Append(Inv($"<text x=\"{Left - 6:F1}\" y=\"{Py(t) + 4:F1}\" text-anchor=\"end\" font-size=\"11\">{FormatTick(t, _y1 - _y0)}</text>\n"));
        }
        sb.Append(Inv($"<rect x=\"{Left:F1}\" y=\"{Top:F1}\" width=\"{PlotWidth:F1}\" height=\"{PlotHeight:F1}\" fill=\"none\" stroke=\"#444\"/>\n"));
        sb.Append(_body);
        sb.Append(Inv($"<text x=\"{Left + PlotWidth / 2:F1}\" y=\"{_height - 12:F1}\" text-anchor=\"middle\" font-size=\"13\">{Escape(XLabel)}</text>\n"));
        sb.Append(Inv($"<text x=\"16\" y=\"{Top + PlotHeight / 2:F1}\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 16 {Top + PlotHeight / 2:F1})\">{Escape(YLabel)}</text>\n"));
        double ly = Top + 10;
        if (_legend.Count > 0)
            sb.Append(Inv($"<rect x=\"{Left + PlotWidth - 156:F1}\" y=\"{Top + 2:F1}\" width=\"152\" height=\"{18 * _legend.Count + 4:F1}\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n"));
        foreach (var (label, color, line) in _legend)
        {
            double lx = Left + PlotWidth - 150;
            sb.Append(line
                ? Inv($"<line x1=\"{lx:F1}\" y1=\"{ly:F1}\" x2=\"{lx + 18:F1}\" y2=\"{ly:F1}\" stroke=\"{color}\" stroke-width=\"3\"/>")
                : Inv($"<rect x=\"{lx + 3:F1}\" y=\"{ly - 6:F1}\" width=\"12\" height=\"12\" fill=\"{color}\" fill-opacity=\"0.7\" stroke=\"{color}\"/>"));
            sb.Append(Inv($"<text x=\"{lx + 24:F1}\" y=\"{ly + 4:F1}\" font-size=\"12\">{Escape(label)}</text>\n"));
            ly += 18;
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>Tick values at 1, 2 or 5 × 10^k, about six across the range.</summary>
    internal static IReadOnlyList<double> Ticks(double min, double max)
    {
        double step = NiceStep((max - min) / 6);
        var ticks = new List<double>();
        for (double t = Math.Ceiling(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step)
            ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        return ticks;
    }

    internal static double NiceStep(double raw)
    {
        if (!(raw > 0) || !double.IsFinite(raw)) return 1;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double f = raw / magnitude;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
    }

    /// <summary>A range padded by 5 % and rounded out to tick steps; an empty range gets a unit-ish width around its value.</summary>
    internal static (double Min, double Max) Widen(double min, double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) return (0, 1);
        if (max < min) (min, max) = (max, min);
        if (max - min < 1e-12)
        {
            double pad = Math.Abs(min) > 1e-12 ? Math.Abs(min) * 0.1 : 0.5;
            min -= pad;
            max += pad;
        }
        double margin = (max - min) * 0.05;
        double step = NiceStep((max - min + 2 * margin) / 6);
        return (Math.Floor((min - margin) / step) * step, Math.Ceiling((max + margin) / step) * step);
    }

    private static string FormatTick(double value, double span) =>
        value.ToString(span >= 50 ? "F0" : span >= 5 ? "F1" : span >= 0.5 ? "F2" : span >= 0.05 ? "F3" : "G4", CultureInfo.InvariantCulture);

    internal static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
