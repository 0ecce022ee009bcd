using System.Reflection;
using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// Saving and loading of models that hold DiffNft transformers, on <c>mlContext.Model</c>: a
/// <see cref="Data.TransformerChain{TLastTransformer}"/> that mixes ML.NET and DiffNft transformers (trait rarity →
/// one-hot → SDCA, generator → reward scorer), a single DiffNft transformer, or a pure ML.NET model.
/// </summary>
/// <remarks>
/// <para>
/// ML.NET 5 gives third-party transformers no public way into <c>mlContext.Model.Save</c>, which throws on a chain with a
/// DiffNft transformer. <see cref="SaveDiffNft"/> walks the chain (nested chains included): each run of consecutive ML.NET
/// transformers is saved by <c>mlContext.Model.Save</c>, each DiffNft transformer in the package's own validated format,
/// all in one zip with a manifest that lists the parts in order with the SHA-256 of each. See docs/saving.md.
/// </para>
/// <para>
/// The file is written atomically: everything is serialised first, then written to a temporary file beside the target
/// and renamed over it, so a failed save leaves neither a partial file nor a temporary one, and an earlier file under
/// that name stays as it was.
/// </para>
/// </remarks>
public static class DiffNftModelOperationsCatalog
{
    /// <summary>
    /// Saves <paramref name="model"/> — a chain mixing ML.NET and DiffNft transformers, one DiffNft transformer, or an
    /// ML.NET model — and its input schema to one file at <paramref name="filePath"/>, atomically.
    /// </summary>
    /// <param name="catalog"><c>mlContext.Model</c>.</param>
    /// <param name="model">The model to save.</param>
    /// <param name="inputSchema">The schema of the data the model expects, or null (then <see cref="LoadDiffNft"/> gives null).</param>
    /// <param name="filePath">The file to write; replaced when it exists.</param>
    /// <exception cref="InvalidOperationException">A transformer could not be saved; no file was written.</exception>
    /// <example>
    /// <code>
    /// var model = mlContext.Transforms.DiffNft.ComputeTraitRarity()
    ///     .Append(mlContext.Transforms.Categorical.OneHotEncoding("Type"))
    ///     .Append(…).Fit(collection);
    /// mlContext.Model.SaveDiffNft(model, collection.Schema, "model.zip");
    /// var loaded = mlContext.Model.LoadDiffNft("model.zip", out var schema);
    /// </code>
    /// </example>
    public static void SaveDiffNft(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        DiffNftPipelineFile.Save(catalog, EnvironmentOf(catalog), model, inputSchema, filePath);
    }

    /// <summary>
    /// Loads a model saved by <see cref="SaveDiffNft"/> (as a <see cref="Data.TransformerChain{TLastTransformer}"/> of
    /// <see cref="ITransformer"/>), or a single DiffNft transformer saved by its <c>Save(path)</c> method. Every part is
    /// checked against the manifest (format, version, kind, SHA-256) before anything is loaded.
    /// </summary>
    /// <param name="catalog"><c>mlContext.Model</c>.</param>
    /// <param name="filePath">The file to read.</param>
    /// <param name="inputSchema">The saved input schema, or null when none was saved.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is damaged, edited, of a newer version or holds an unknown part; the message names the file and the entry.</exception>
    public static ITransformer LoadDiffNft(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema? inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        return DiffNftPipelineFile.Load(catalog, EnvironmentOf(catalog), filePath, out inputSchema);
    }

    // As for mlContext.Transforms (HostEnvironmentAccess): the catalog keeps its MLContext's environment in a private field,
    // and loaded transformers must belong to that environment so the context's log and settings apply to them.
    private static readonly FieldInfo? s_envField =
        typeof(ModelOperationsCatalog).GetField("_env", BindingFlags.NonPublic | BindingFlags.Instance);

    private static IHostEnvironment EnvironmentOf(ModelOperationsCatalog catalog) =>
        s_envField?.GetValue(catalog) as IHostEnvironment ?? throw new InvalidOperationException(
            "Microsoft.ML.DiffNft cannot reach the ML.NET environment of this MLContext: the private field " +
            $"ModelOperationsCatalog._env was not found in {typeof(ModelOperationsCatalog).Assembly.GetName()}. Use the " +
            "Microsoft.ML version this package was built against (5.0.x).");
}
