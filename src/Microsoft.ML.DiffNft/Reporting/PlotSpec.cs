using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// One of the report's plots as data: size, title, axis labels and limits, markers, lines, histogram steps, vertical
/// lines and legend entries. Both renderers draw from it — ScottPlot (through <see cref="ScottPlotRenderer"/>, which
/// receives it as JSON because the plotting assembly lives in another load context and shares no types with the library)
/// and the built-in <see cref="SvgChart"/>.
/// </summary>
internal sealed class PlotSpec
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public int Width { get; init; } = 720;

    public int Height { get; init; } = 460;

    public string Title { get; init; } = "";

    public string XLabel { get; init; } = "";

    public string YLabel { get; init; } = "";

    /// <summary>Axis limits [min, max], already padded and rounded to ticks (<see cref="SvgChart.Widen"/>).</summary>
    public required double[] XRange { get; init; }

    /// <summary>Axis limits [min, max], already padded and rounded to ticks.</summary>
    public required double[] YRange { get; init; }

    public List<MarkerSpec> Markers { get; } = [];

    public List<LineSpec> Lines { get; } = [];

    public List<StepsSpec> Steps { get; } = [];

    public List<VerticalLineSpec> VerticalLines { get; } = [];

    public List<LegendSpec> Legend { get; } = [];

    /// <summary>The spec as the plotting assembly reads it (camelCase JSON).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);
}

/// <summary>A marker at a data point with a label beside it; the tooltip is shown by the built-in chart only.</summary>
internal sealed record MarkerSpec(double X, double Y, string Color, string Shape, double Size, string? Label, string? Tooltip = null);

/// <summary>A polyline through [x, y] points.</summary>
internal sealed record LineSpec(double[][] Points, string Color, double Width, bool Dashed);

/// <summary>A histogram: a step outline over bins (one more edge than heights), filled with a translucent colour.</summary>
internal sealed record StepsSpec(double[] Edges, double[] Heights, string Color, double FillOpacity = 0.25);

/// <summary>A vertical line across the plot with a label.</summary>
internal sealed record VerticalLineSpec(double X, string Color, string? Label, bool Dashed = true);

/// <summary>A legend entry: kind "marker" (with shape "circle" or "square"), "line" or "fill".</summary>
internal sealed record LegendSpec(string Label, string Color, string Kind, string Shape = "circle");
