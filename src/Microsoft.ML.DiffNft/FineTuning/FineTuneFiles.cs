namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>Where a fine-tuning run on disk writes: the tuned model, its checkpoint (resumed from), its log and its sample grids.</summary>
internal sealed record FineTuneFiles(string Model, string Checkpoint, string Log, string SampleGrids)
{
    /// <summary>The CLI's layout: OUT, OUT.ckpt, OUT.log.csv and OUT.samples/.</summary>
    public static FineTuneFiles Beside(string model) => new(model, model + ".ckpt", model + ".log.csv", model + ".samples");
}
