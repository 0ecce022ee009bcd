using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// Learns a collection's trait frequencies and scores rows by trait rarity: OpenRarity by default, or rarity.tools'
/// sum, statistical or average rarity. Create it with <c>mlContext.Transforms.DiffNft.ComputeTraitRarity(…)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Input: one text column per trait type (an empty value means the token lacks the trait). Output columns, by default:
/// <c>RarityScore</c> (<see cref="float"/>), <c>RarityRank</c> (<see cref="int"/>, 1 = rarest among the fitted
/// collection) and <c>IsRare</c> (<see cref="bool"/>, the top <see cref="TraitRarityOptions.RareQuantile"/> of the
/// fitted collection by score, 5 % by default).
/// </para>
/// <para>
/// OpenRarity 0.7.5 exactly: names and values trimmed and lower-cased; a missing trait is a "null" value with its own
/// frequency; every token gets a <c>meta_trait:trait_count</c> trait; numeric traits are left out (or scored as text);
/// score = Σ −log2 p / H with H the collection entropy (1 when H = 0); ranking by the number of unique traits first,
/// then by score, with scores equal within relative 1e-9 sharing a rank (1, 2, 2, 2, 5).
/// </para>
/// </remarks>
public sealed class TraitRarityEstimator : IEstimator<TraitRarityTransformer>
{
    private readonly IHost _host;
    private readonly TraitRarityOptions _options;

    internal TraitRarityEstimator(IHostEnvironment env, TraitRarityOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(TraitRarityEstimator));
        ArgumentNullException.ThrowIfNull(options);
        _options = Validate(_host, options);
    }

    /// <summary>Reads <paramref name="input"/> once and learns its trait frequencies and rarity order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A trait column is missing or is not text, or no trait column was found.</exception>
    /// <exception cref="InvalidOperationException">The data has no rows, or no trait values.</exception>
    public TraitRarityTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // An empty collection's view has no trait columns either: say that it is empty, not that its traits are missing.
        if (input.GetRowCount() == 0)
            throw _host.Process(new InvalidOperationException("Cannot fit trait rarity: the training data has no rows (an empty collection?); expected one row per token."));
        var columns = TraitColumnSelector.Resolve(_host, input.Schema, _options);
        var table = TraitRarityFitter.Fit(_host, input, columns, _options);
        return new TraitRarityTransformer(_host, table, _options.ScoreColumnName, _options.RankColumnName,
            _options.IsRareColumnName, _options.ProbabilitiesColumnName, _options.UseDoublePrecision);
    }

    /// <summary>The output schema shape: the input columns plus the rarity columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A named trait column is missing or is not text.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        TraitColumnSelector.Check(_host, inputSchema, _options);
        var scalar = _options.UseDoublePrecision ? NumberDataViewType.Double : NumberDataViewType.Single;
        var outputs = new List<(string, DataViewType)>
        {
            (_options.ScoreColumnName, scalar),
            (_options.RankColumnName, NumberDataViewType.Int32),
            (_options.IsRareColumnName, BooleanDataViewType.Instance),
        };
        // The number of trait types is known only after Fit (numeric traits are recognised by annotation values, which a
        // schema shape does not carry); a schema shape records only that the column is a fixed-size vector.
        if (_options.ProbabilitiesColumnName is { } probabilities)
            outputs.Add((probabilities, new VectorDataViewType(scalar, 1)));
        return SchemaShapeOracle.WithColumns(inputSchema, outputs);
    }

    private static TraitRarityOptions Validate(IHost host, TraitRarityOptions options)
    {
        void Name(string? value, string what)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw host.Process(new ArgumentOutOfRangeException(what, $"{what} cannot be null or empty."));
        }
        Name(options.ScoreColumnName, nameof(options.ScoreColumnName));
        Name(options.RankColumnName, nameof(options.RankColumnName));
        Name(options.IsRareColumnName, nameof(options.IsRareColumnName));
        if (options.ProbabilitiesColumnName is not null)
            Name(options.ProbabilitiesColumnName, nameof(options.ProbabilitiesColumnName));
        var outputs = new[] { options.ScoreColumnName, options.RankColumnName, options.IsRareColumnName, options.ProbabilitiesColumnName }
            .Where(n => n is not null).ToList();
        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Count)
            throw host.Process(new ArgumentOutOfRangeException(nameof(options),
                $"The output column names must differ; got {string.Join(", ", outputs.Select(n => $"'{n}'"))}."));
        if (!(options.RareQuantile > 0 && options.RareQuantile <= 1))
            throw host.Process(new ArgumentOutOfRangeException(nameof(options.RareQuantile),
                $"{nameof(options.RareQuantile)} must be in (0, 1] (the share of the collection labelled rare); got {options.RareQuantile}."));
        if (!Enum.IsDefined(options.Method))
            throw host.Process(new ArgumentOutOfRangeException(nameof(options.Method), $"Unknown rarity method {options.Method}."));
        if (!Enum.IsDefined(options.NumericTraits))
            throw host.Process(new ArgumentOutOfRangeException(nameof(options.NumericTraits), $"Unknown numeric-trait handling {options.NumericTraits}."));
        if (options.TraitColumnNames is { } names && names.Length == 0)
            throw host.Process(new ArgumentOutOfRangeException(nameof(options.TraitColumnNames),
                "TraitColumnNames is empty; give at least one trait column, or leave it null to use every trait column."));

        // A copy, so that later changes to the caller's options object do not change this estimator.
        return new TraitRarityOptions
        {
            TraitColumnNames = options.TraitColumnNames?.ToArray(),
            Method = options.Method,
            ScoreColumnName = options.ScoreColumnName,
            RankColumnName = options.RankColumnName,
            IsRareColumnName = options.IsRareColumnName,
            ProbabilitiesColumnName = options.ProbabilitiesColumnName,
            RareQuantile = options.RareQuantile,
            NumericTraits = options.NumericTraits,
            IncludeTraitCount = options.IncludeTraitCount,
            UseDoublePrecision = options.UseDoublePrecision,
        };
    }
}
