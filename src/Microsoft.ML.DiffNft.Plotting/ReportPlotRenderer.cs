using System.Reflection;
using ScottPlot;

namespace Microsoft.ML.DiffNft.Plotting;

/// <summary>
/// The entry point the library calls by reflection (from its own assembly load context): a plot described as JSON in,
/// an SVG element out. Only BCL types cross the boundary.
/// </summary>
public static class ReportPlotRenderer
{
    // ScottPlot's font cache and SkiaSharp's font manager are process-wide; the report draws a handful of small plots,
    // so one lock costs nothing and keeps concurrent reports safe.
    private static readonly Lock s_lock = new();

    // Marker outlines and point labels, as in the built-in chart.
    private static readonly Color s_outline = new(0x22, 0x22, 0x22), s_text = new(0x33, 0x33, 0x33);

    private static readonly Lazy<string> s_font = new(ChooseFont);

    /// <summary>What draws the plots, e.g. "ScottPlot 5.1.59 (SkiaSharp 3.119.0)".</summary>
    public static string Description => $"ScottPlot {VersionOf(typeof(Plot).Assembly)} (SkiaSharp {VersionOf(typeof(SkiaSharp.SKCanvas).Assembly)})";

    /// <summary>Draws the plot that <paramref name="specJson"/> describes and returns it as one &lt;svg&gt; element.</summary>
    /// <param name="specJson">The plot: size, title, axis labels and ranges, markers, lines, steps, vertical lines, legend.</param>
    /// <exception cref="FormatException">The spec is not valid JSON or a field is out of range; the message names the field.</exception>
    public static string RenderSvg(string specJson)
    {
        ArgumentNullException.ThrowIfNull(specJson);
        var spec = PlotSpec.Parse(specJson);
        lock (s_lock)
        {
            using var plot = Build(spec);
            return StripXmlDeclaration(plot.GetSvgXml(spec.Width, spec.Height));
        }
    }

    /// <summary>Draws the plot as PNG (for checks that need pixels; the report embeds the SVG).</summary>
    /// <param name="specJson">The plot, as for <see cref="RenderSvg"/>.</param>
    /// <exception cref="FormatException">The spec is not valid JSON or a field is out of range.</exception>
    public static byte[] RenderPng(string specJson)
    {
        ArgumentNullException.ThrowIfNull(specJson);
        var spec = PlotSpec.Parse(specJson);
        lock (s_lock)
        {
            using var plot = Build(spec);
            return plot.GetImageBytes(spec.Width, spec.Height, ImageFormat.Png);
        }
    }

    private static Plot Build(PlotSpec spec)
    {
        string font = s_font.Value;
        var plot = new Plot();
        plot.Title(spec.Title, size: 15);
        plot.XLabel(spec.XLabel, size: 13);
        plot.YLabel(spec.YLabel, size: 13);

        // Histograms first, so markers and lines are drawn over them.
        foreach (var s in spec.Steps)
        {
            var color = HexColor.Parse(s.Color, "steps.color");
            var outline = new List<Coordinates>(2 * s.Heights.Length + 2) { new(s.Edges[0], 0) };
            for (int i = 0; i < s.Heights.Length; i++)
            {
                outline.Add(new(s.Edges[i], s.Heights[i]));
                outline.Add(new(s.Edges[i + 1], s.Heights[i]));
            }
            outline.Add(new(s.Edges[^1], 0));
            var polygon = plot.Add.Polygon(outline.ToArray());
            polygon.FillColor = color.WithAlpha(Math.Clamp(s.FillOpacity, 0, 1));
            polygon.LineColor = color;
            polygon.LineWidth = 2;
        }

        foreach (var l in spec.Lines.Where(l => !l.Dashed && l.Points.Length >= 2))
        {
            var line = plot.Add.ScatterLine(l.Points.Select(p => p[0]).ToArray(), l.Points.Select(p => p[1]).ToArray(), HexColor.Parse(l.Color, "lines.color"));
            line.LineWidth = (float)l.Width;
            line.MarkerSize = 0;
        }

        // Labels go right of their marker, except in the right quarter of the x axis, where they would run off the plot.
        double labelFlipX = spec.XRange is { } range ? range[0] + 0.75 * (range[1] - range[0])
            : spec.Markers.Count > 0 ? spec.Markers.Min(m => m.X) + 0.75 * (spec.Markers.Max(m => m.X) - spec.Markers.Min(m => m.X)) : 0;
        foreach (var m in spec.Markers)
        {
            var color = HexColor.Parse(m.Color, "markers.color");
            var marker = plot.Add.Marker(m.X, m.Y, m.Shape == "square" ? MarkerShape.FilledSquare : MarkerShape.FilledCircle, (float)m.Size, color);
            marker.MarkerLineColor = s_outline;
            marker.MarkerLineWidth = 1;
            if (m.Label is { Length: > 0 } label)
            {
                var text = plot.Add.Text(label, m.X, m.Y);
                text.LabelFontName = font;
                text.LabelFontSize = 11;
                text.LabelFontColor = s_text;
                bool left = spec.Markers.Count > 1 && m.X > labelFlipX;
                text.LabelAlignment = left ? Alignment.LowerRight : Alignment.LowerLeft;
                text.OffsetX = (left ? -1 : 1) * (float)(m.Size / 2 + 2);
                text.OffsetY = -(float)(m.Size / 2);
            }
        }

        // Fit the data, then pin the axes the spec fixes (the library pads and rounds them like the built-in chart).
        plot.Axes.AutoScale();
        if (spec.XRange is { } xr) plot.Axes.SetLimitsX(xr[0], xr[1]);
        if (spec.YRange is { } yr) plot.Axes.SetLimitsY(yr[0], yr[1]);

        // Dashed lines last: their dashes are cut in pixels, which needs the final axis limits and layout.
        var dashed = spec.Lines.Where(l => l.Dashed && l.Points.Length >= 2)
            .Select(l => (Points: l.Points.Select(p => new Coordinates(p[0], p[1])).ToArray(), Color: HexColor.Parse(l.Color, "lines.color"), l.Width, Dash: 6.0, Gap: 4.0))
            .ToList();
        var limits = plot.Axes.GetLimits();
        foreach (var v in spec.VerticalLines)
        {
            var color = HexColor.Parse(v.Color, "verticalLines.color");
            Coordinates[] ends = [new(v.X, limits.Bottom), new(v.X, limits.Top)];
            if (v.Dashed) dashed.Add((ends, color, 1.5, 4, 3));
            else plot.Add.Line(ends[0], ends[1]).LineStyle = new LineStyle { Color = color, Width = 1.5f };
            if (v.Label is { Length: > 0 } label)
            {
                var text = plot.Add.Text(label, v.X, limits.Bottom);
                text.LabelFontName = font;
                text.LabelFontSize = 11;
                text.LabelFontColor = color;
                text.LabelAlignment = Alignment.LowerLeft;
                text.OffsetX = 4;
                text.OffsetY = -6;
            }
        }
        if (dashed.Count > 0)
        {
            plot.RenderInMemory(spec.Width, spec.Height);
            foreach (var (points, color, width, dash, gap) in dashed)
                foreach (var (a, b) in Dashes(plot, points, dash, gap))
                    plot.Add.Line(a, b).LineStyle = new LineStyle { Color = color, Width = (float)width };
        }

        if (spec.Legend.Count > 0)
        {
            foreach (var e in spec.Legend)
            {
                var color = HexColor.Parse(e.Color, "legend.color");
                var item = new LegendItem { LabelText = e.Label };
                switch (e.Kind)
                {
                    case "line":
                        item.LineColor = color;
                        item.LineWidth = 3;
                        break;
                    case "fill":
                        item.FillColor = color.WithAlpha(0.7);
                        item.OutlineColor = color;
                        item.OutlineWidth = 1;
                        break;
                    default:
                        item.MarkerShape = e.Shape == "square" ? MarkerShape.FilledSquare : MarkerShape.FilledCircle;
                        item.MarkerFillColor = color;
                        item.MarkerLineColor = s_outline;
                        item.MarkerSize = 10;
                        item.MarkerLineWidth = 1;
                        break;
                }
                plot.Legend.ManualItems.Add(item);
            }
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Font.Set(font);
        plot.Legend.FontName = font;
        return plot;
    }

    /// <summary>
    /// The dashes of a polyline as separate segments, <paramref name="dash"/> pixels on and <paramref name="gap"/> off,
    /// continuing the pattern across vertices. Skia's SVG backend has no dash path effect (it warns on the console and
    /// approximates), so dashes are drawn as plain segments, which read the same in SVG and PNG.
    /// </summary>
    private static IEnumerable<(Coordinates A, Coordinates B)> Dashes(Plot plot, Coordinates[] points, double dash, double gap)
    {
        double phase = 0; // distance already covered in the current on+off period
        for (int i = 0; i + 1 < points.Length; i++)
        {
            Pixel p0 = plot.GetPixel(points[i]), p1 = plot.GetPixel(points[i + 1]);
            double dx = p1.X - p0.X, dy = p1.Y - p0.Y, length = Math.Sqrt(dx * dx + dy * dy);
            double t = 0;
            while (t < length)
            {
                double inPeriod = phase % (dash + gap);
                double step = inPeriod < dash ? Math.Min(dash - inPeriod, length - t) : Math.Min(dash + gap - inPeriod, length - t);
                if (inPeriod < dash && step > 0)
                    yield return (At(t), At(t + step));
                t += step;
                phase += step;
            }

            Coordinates At(double d) => plot.GetCoordinates(new Pixel((float)(p0.X + dx * d / length), (float)(p0.Y + dy * d / length)));
        }
    }

    /// <summary>
    /// A sans-serif family that is installed (Skia's font manager without fontconfig scans the system's font folders,
    /// e.g. /usr/share/fonts), else whatever Skia's default typeface is. Without any font, text cannot be measured or
    /// drawn, so the plot is refused and the library falls back to its built-in SVG chart.
    /// </summary>
    private static string ChooseFont()
    {
        if (SkiaSharp.SKFontManager.Default.FontFamilyCount == 0)
            throw new InvalidOperationException(
                "no fonts were found for ScottPlot (SkiaSharp looks in the system's font folders, e.g. /usr/share/fonts); install one, e.g. apt-get install fonts-dejavu-core");
        foreach (string family in new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "Open Sans", "Segoe UI" })
            if (string.Equals(Fonts.GetTypeface(family, false, false)?.FamilyName, family, StringComparison.OrdinalIgnoreCase))
                return family;
        return Fonts.Default;
    }

    private static string StripXmlDeclaration(string svg)
    {
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start > 0 ? svg[start..] : svg;
    }

    private static string VersionOf(Assembly assembly)
    {
        string? v = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(v)) return assembly.GetName().Version?.ToString() ?? "?";
        int plus = v.IndexOf('+');
        return plus > 0 ? v[..plus] : v;
    }
}
