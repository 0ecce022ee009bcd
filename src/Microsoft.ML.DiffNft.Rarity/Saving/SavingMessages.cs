namespace Microsoft.ML.DiffNft.Saving;

/// <summary>The one message every DiffNft transformer gives when <c>mlContext.Model.Save</c> reaches it.</summary>
internal static class SavingMessages
{
    /// <summary>Why <c>mlContext.Model.Save</c> failed on <paramref name="transformer"/> and what to call instead.</summary>
    public static string UseSaveDiffNft(string transformer) =>
        $"{transformer} cannot be saved with MLContext.Model.Save: ML.NET gives third-party transformers no public way to " +
        "store learned state. Save the whole model with mlContext.Model.SaveDiffNft(model, inputSchema, path) and load it " +
        "with mlContext.Model.LoadDiffNft(path, out inputSchema); that works for chains mixing ML.NET and DiffNft " +
        $"transformers (the transformer alone: {transformer}.Save(path)). MLContext.Model.Save may have left a partial file " +
        "behind; SaveDiffNft writes atomically.";
}
