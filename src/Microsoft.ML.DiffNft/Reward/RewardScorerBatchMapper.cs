using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// The work of <see cref="RarityRewardScorerTransformer.Transform"/> for <see cref="BatchedColumnsDataView{TRow}"/>:
/// reads each row's image and scores <see cref="RarityRewardModel.BatchSize"/> images at a time through
/// <see cref="RarityRewardModel.Predict"/>, the tensor API's path.
/// </summary>
internal sealed class RewardScorerBatchMapper(RarityRewardScorerTransformer scorer, IHost host) : IBatchColumnMapper<RgbaImage>
{
    public int BatchSize => scorer.Model.BatchSize;

    public IReadOnlyList<BatchedColumn> Outputs { get; } = MakeOutputs(scorer);

    public IReadOnlyList<DataViewSchema.Column> InputColumns(DataViewSchema inputSchema) =>
        [ColumnReaders.FindImage(host, inputSchema, scorer.Options.ImageColumnName, "image")];

    public Func<RgbaImage> RowReader(DataViewRow row) =>
        ColumnReaders.ImageReader(row, row.Schema[scorer.Options.ImageColumnName], "image");

    public Array[] Compute(IReadOnlyList<RgbaImage> rows)
    {
        HostCancellation.ThrowIfCanceled(host);
        using (var ch = host.Start("ScoreRarityReward"))
            ch.Info(MessageSensitivity.None, $"Scoring a batch of {rows.Count} images with the rarity reward ({scorer.Options.RewardKind}).");
        var scores = scorer.Model.Predict(rows, scorer.Options.RewardKind);
        scorer.CountScored(rows.Count);
        return [scores.Rewards, scores.RareProbabilities, scores.Embeddings.Select(e => new VBuffer<float>(e.Length, e)).ToArray()];
    }

    private static BatchedColumn[] MakeOutputs(RarityRewardScorerTransformer scorer)
    {
        var types = RarityRewardScorerTransformer.OutputColumns(scorer.Options, scorer.Model.EmbeddingSize);
        return
        [
            BatchedColumn.Create<float>(types[0].Name, types[0].Type),
            BatchedColumn.Create<float>(types[1].Name, types[1].Type),
            // Every reader gets its own copy: ML.NET consumers may reuse (and write into) the buffer they are handed.
            BatchedColumn.Create<VBuffer<float>>(types[2].Name, types[2].Type, static v => new VBuffer<float>(v.Length, v.DenseValues().ToArray())),
        ];
    }
}
