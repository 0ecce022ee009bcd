using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// The work of <see cref="DiffusionGeneratorTransformer.Transform"/> for <see cref="BatchedColumnsDataView{TRow}"/>:
/// reads each row's prompt and seed (the seed column, or <see cref="GeneratorOptions.Seed"/> + row position) and
/// generates a batch of <see cref="SamplingOptions.BatchSize"/> images at a time. An image depends only on its prompt
/// and seed, so the batches give the same pixels as generating every row at once.
/// </summary>
internal sealed class GeneratorBatchMapper(DiffusionGeneratorTransformer generator, IHost host) : IBatchColumnMapper<GeneratorBatchMapper.Row>
{
    /// <summary>One input row: its prompt and its seed.</summary>
    internal readonly record struct Row(string Prompt, long Seed);

    private GeneratorOptions Options => generator.Options;

    public int BatchSize => Options.Generation.BatchSize;

    public IReadOnlyList<BatchedColumn> Outputs { get; } = [BatchedColumn.Create<MLImage>(generator.Options.ImageColumnName, generator.ImageType)];

    public IReadOnlyList<DataViewSchema.Column> InputColumns(DataViewSchema inputSchema)
    {
        var columns = new List<DataViewSchema.Column> { ColumnReaders.FindText(host, inputSchema, Options.PromptColumnName!, "prompt") };
        if (ColumnReaders.FindOptionalInteger(host, inputSchema, Options.SeedColumnName, "seed") is { } seed) columns.Add(seed);
        return columns;
    }

    public Func<Row> RowReader(DataViewRow row)
    {
        var prompt = ColumnReaders.TextReader(row, row.Schema[Options.PromptColumnName!]);
        var seedColumn = row.Schema.GetColumnOrNull(Options.SeedColumnName);
        var seed = seedColumn is { } c && row.IsColumnActive(c) ? ColumnReaders.IntegerReader(row, c) : null;
        long baseSeed = Options.Seed ?? ContextSeed.EngineDefault;
        return () => new Row(prompt(), seed is null ? baseSeed + row.Position : seed());
    }

    public Array[] Compute(IReadOnlyList<Row> rows)
    {
        using var cancel = HostCancellation.Observe(host, Options.CancellationToken);
        using (var ch = host.Start("Generate"))
            ch.Info(MessageSensitivity.None, $"Generating a batch of {rows.Count} images ({Options.Generation.Steps} DDIM steps, guidance {Options.Generation.GuidanceScale}).");
        var images = generator.Model.Generate(rows.Select(r => r.Prompt).ToList(), rows.Select(r => r.Seed).ToList(), Options.Generation,
            cancellationToken: cancel.Token);
        generator.CountGenerated(images.Length);
        return [images.Select(i => i.ToMLImage()).ToArray()];
    }
}
