using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// Scores rows against a fitted collection's trait frequencies: adds the rarity score, the rank among the fitted
/// collection and the rare flag (and optionally the per-trait probabilities). Made by
/// <see cref="TraitRarityEstimator.Fit"/> or <c>mlContext.Transforms.DiffNft.LoadTraitRarity(path)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Any rows can be scored: the fitted collection itself (its rows get exactly their OpenRarity scores and ranks), new
/// tokens, or traits decoded from generated images. How values the collection never showed are scored is described on
/// <see cref="TraitRarityTable"/>. Rows are scored independently and lazily, and parallel cursors are supported.
/// </para>
/// <para>
/// Persistence: ML.NET 5 gives third-party transformers no public way to store learned state in
/// <c>mlContext.Model.Save</c>, and the rank of a new row needs the whole fitted collection in rarity order, which no
/// built-in transformer can hold. So a model holding this transformer is saved with <c>mlContext.Model.SaveDiffNft</c> and
/// loaded with <c>mlContext.Model.LoadDiffNft</c> (the transformer alone: <see cref="Save(string)"/>, a versioned JSON
/// file); <c>mlContext.Model.Save</c> throws a <see cref="NotSupportedException"/> that says so.
/// </para>
/// </remarks>
public sealed partial class TraitRarityTransformer : ITransformer
{
    private readonly IHost _host;

    internal TraitRarityTransformer(IHostEnvironment env, TraitRarityTable table, string scoreColumnName, string rankColumnName,
        string isRareColumnName, string? probabilitiesColumnName, bool useDoublePrecision)
    {
        _host = env.Register(nameof(TraitRarityTransformer));
        Table = table;
        ScoreColumnName = scoreColumnName;
        RankColumnName = rankColumnName;
        IsRareColumnName = isRareColumnName;
        ProbabilitiesColumnName = probabilitiesColumnName;
        UseDoublePrecision = useDoublePrecision;
        var names = table.Traits.Select(t => t.TraitType).ToList();
        if (table.IncludesTraitCount) names.Add(TraitText.TraitCountName);
        ProbabilitySlotNames = names;
    }

    /// <summary>What was learned: frequencies, entropy, the rare threshold; also scores single tokens.</summary>
    public TraitRarityTable Table { get; }

    /// <summary>The scoring method.</summary>
    public RarityMethod Method => Table.Method;

    /// <summary>The output score column.</summary>
    public string ScoreColumnName { get; }

    /// <summary>The output rank column.</summary>
    public string RankColumnName { get; }

    /// <summary>The output rare-flag column.</summary>
    public string IsRareColumnName { get; }

    /// <summary>The output per-trait probability column, or null when not produced.</summary>
    public string? ProbabilitiesColumnName { get; }

    /// <summary>Whether the score and probability columns are <see cref="double"/> (else <see cref="float"/>).</summary>
    public bool UseDoublePrecision { get; }

    /// <summary>The slot names of the probability column: the trait types, then <c>meta_trait:trait_count</c> when it takes part.</summary>
    public IReadOnlyList<string> ProbabilitySlotNames { get; }

    /// <summary>Always true: rows are scored one at a time, so prediction engines work.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>The schema <see cref="Transform"/> produces for an input schema.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A fitted trait column is missing or is not text.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return Bind(inputSchema).OutputSchema;
    }

    /// <summary>Adds the rarity columns to <paramref name="input"/>. Nothing is computed until the rows are read.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A fitted trait column is missing or is not text.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new TraitRarityDataView(input, Bind(input.Schema));
    }

    /// <summary>Returns a row-to-row mapper for <paramref name="inputSchema"/>.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new TraitRarityRowMapper(Bind(inputSchema));
    }

    /// <summary>Not supported: use <c>mlContext.Model.SaveDiffNft</c> or <see cref="Save(string)"/>.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw _host.Process(new NotSupportedException(Saving.SavingMessages.UseSaveDiffNft(nameof(TraitRarityTransformer))));

    private TraitRarityBinding Bind(DataViewSchema inputSchema) => new(_host, this, inputSchema);
}
