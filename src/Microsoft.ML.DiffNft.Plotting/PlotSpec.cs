using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.DiffNft.Plotting;

/// <summary>
/// One plot as the library describes it (JSON, camelCase): the library and this assembly share no types, only this
/// text, because they live in different assembly load contexts.
/// </summary>
internal sealed class PlotSpec
{
    public int Width { get; set; } = 720;

    public int Height { get; set; } = 460;

    public string Title { get; set; } = "";

    public string XLabel { get; set; } = "";

    public string YLabel { get; set; } = "";

    /// <summary>Axis limits [min, max]; null lets ScottPlot fit the data.</summary>
    public double[]? XRange { get; set; }

    /// <summary>Axis limits [min, max]; null lets ScottPlot fit the data.</summary>
    public double[]? YRange { get; set; }

    public List<MarkerSpec> Markers { get; set; } = [];

    public List<LineSpec> Lines { get; set; } = [];

    public List<StepsSpec> Steps { get; set; } = [];

    public List<VerticalLineSpec> VerticalLines { get; set; } = [];

    public List<LegendSpec> Legend { get; set; } = [];

    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Parses and checks a spec; bad input names the JSON path and what was expected.</summary>
    public static PlotSpec Parse(string json)
    {
        PlotSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<PlotSpec>(json, s_options);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Plot spec: {ex.Message} (path {ex.Path ?? "$"}).", ex);
        }
        if (spec is null) throw new FormatException("Plot spec: expected a JSON object, got null.");
        spec.Validate();
        return spec;
    }

    private void Validate()
    {
        if (Width is < 50 or > 10000 || Height is < 50 or > 10000)
            throw new FormatException($"Plot spec: width and height must be 50..10000 pixels, got {Width} × {Height}.");
        CheckRange(XRange, "xRange");
        CheckRange(YRange, "yRange");
        for (int i = 0; i < Markers.Count; i++)
        {
            var m = Markers[i] ?? throw new FormatException($"Plot spec: markers[{i}] is null.");
            if (!double.IsFinite(m.X) || !double.IsFinite(m.Y)) throw new FormatException($"Plot spec: markers[{i}] has a non-finite coordinate.");
            HexColor.Parse(m.Color, $"markers[{i}].color");
            if (m.Shape is not ("circle" or "square")) throw new FormatException($"Plot spec: markers[{i}].shape must be 'circle' or 'square', got '{m.Shape}'.");
        }
        for (int i = 0; i < Lines.Count; i++)
        {
            var l = Lines[i] ?? throw new FormatException($"Plot spec: lines[{i}] is null.");
            HexColor.Parse(l.Color, $"lines[{i}].color");
            foreach (var p in l.Points)
                if (p is not { Length: 2 } || !double.IsFinite(p[0]) || !double.IsFinite(p[1]))
                    throw new FormatException($"Plot spec: lines[{i}].points must be finite [x, y] pairs.");
        }
        for (int i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i] ?? throw new FormatException($"Plot spec: steps[{i}] is null.");
            HexColor.Parse(s.Color, $"steps[{i}].color");
            if (s.Edges.Length != s.Heights.Length + 1 || s.Heights.Length == 0)
                throw new FormatException($"Plot spec: steps[{i}] needs one more edge than heights, got {s.Edges.Length} edges and {s.Heights.Length} heights.");
            if (s.Edges.Any(e => !double.IsFinite(e)) || s.Heights.Any(h => !double.IsFinite(h)))
                throw new FormatException($"Plot spec: steps[{i}] has a non-finite edge or height.");
        }
        for (int i = 0; i < VerticalLines.Count; i++)
        {
            var v = VerticalLines[i] ?? throw new FormatException($"Plot spec: verticalLines[{i}] is null.");
            if (!double.IsFinite(v.X)) throw new FormatException($"Plot spec: verticalLines[{i}].x is not finite.");
            HexColor.Parse(v.Color, $"verticalLines[{i}].color");
        }
        for (int i = 0; i < Legend.Count; i++)
        {
            var e = Legend[i] ?? throw new FormatException($"Plot spec: legend[{i}] is null.");
            HexColor.Parse(e.Color, $"legend[{i}].color");
            if (e.Kind is not ("marker" or "line" or "fill")) throw new FormatException($"Plot spec: legend[{i}].kind must be 'marker', 'line' or 'fill', got '{e.Kind}'.");
        }
    }

    private static void CheckRange(double[]? range, string name)
    {
        if (range is null) return;
        if (range.Length != 2 || !double.IsFinite(range[0]) || !double.IsFinite(range[1]) || !(range[1] > range[0]))
            throw new FormatException($"Plot spec: {name} must be [min, max] with finite min < max.");
    }
}

/// <summary>A marker at a data point, with an optional text label beside it.</summary>
internal sealed class MarkerSpec
{
    public double X { get; set; }

    public double Y { get; set; }

    public string Color { get; set; } = "#000000";

    /// <summary>"circle" or "square".</summary>
    public string Shape { get; set; } = "circle";

    /// <summary>Marker size in pixels (diameter or side).</summary>
    public double Size { get; set; } = 12;

    public string? Label { get; set; }

    /// <summary>A hover text for the library's built-in SVG chart; ScottPlot's SVG has no tooltips, so it is not drawn.</summary>
    public string? Tooltip { get; set; }
}

/// <summary>A polyline through data points.</summary>
internal sealed class LineSpec
{
    public double[][] Points { get; set; } = [];

    public string Color { get; set; } = "#000000";

    public double Width { get; set; } = 2;

    public bool Dashed { get; set; }
}

/// <summary>A histogram as a step outline over bins, filled with a translucent colour.</summary>
internal sealed class StepsSpec
{
    public double[] Edges { get; set; } = [];

    public double[] Heights { get; set; } = [];

    public string Color { get; set; } = "#000000";

    public double FillOpacity { get; set; } = 0.25;
}

/// <summary>A vertical line across the plot with a label.</summary>
internal sealed class VerticalLineSpec
{
    public double X { get; set; }

    public string Color { get; set; } = "#000000";

    public string? Label { get; set; }

    public bool Dashed { get; set; } = true;
}

/// <summary>A legend entry: a marker, a line or a filled swatch of a colour.</summary>
internal sealed class LegendSpec
{
    public string Label { get; set; } = "";

    public string Color { get; set; } = "#000000";

    /// <summary>"marker", "line" or "fill".</summary>
    public string Kind { get; set; } = "marker";

    public string Shape { get; set; } = "circle";
}

/// <summary>"#rrggbb" colours.</summary>
internal static class HexColor
{
    public static ScottPlot.Color Parse(string? hex, string field)
    {
        if (hex is not { Length: 7 } || hex[0] != '#' || !uint.TryParse(hex.AsSpan(1), System.Globalization.NumberStyles.HexNumber, null, out uint rgb))
            throw new FormatException($"Plot spec: {field} must be a colour '#rrggbb', got '{hex}'.");
        return new ScottPlot.Color((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);
    }
}
