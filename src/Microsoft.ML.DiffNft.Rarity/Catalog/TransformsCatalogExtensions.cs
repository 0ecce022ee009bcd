using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>Adds the <c>DiffNft</c> sub-catalog to <see cref="TransformsCatalog"/>: <c>mlContext.Transforms.DiffNft</c>.</summary>
/// <remarks>
/// This is a C# 14 extension property, so consuming projects need <c>LangVersion</c> 14 or later (the default with the
/// .NET 10 SDK).
/// </remarks>
public static class TransformsCatalogExtensions
{
    // ML.NET returns the same sub-catalog object every time (mlContext.Transforms.Text, …); do the same, without keeping
    // the TransformsCatalog (and so the MLContext) alive.
    private static readonly ConditionalWeakTable<TransformsCatalog, DiffNftCatalog> s_catalogs = new();

    /// <param name="catalog">The ML.NET transforms catalog (<c>mlContext.Transforms</c>).</param>
    extension(TransformsCatalog catalog)
    {
        /// <summary>The DiffNft transforms: trait rarity and the other DiffNFTGen operations.</summary>
        public DiffNftCatalog DiffNft
        {
            get
            {
                ArgumentNullException.ThrowIfNull(catalog);
                return s_catalogs.GetValue(catalog, static c => new DiffNftCatalog(HostEnvironmentAccess.FromTransforms(c)));
            }
        }
    }
}

/// <summary>Reaches the <see cref="IHostEnvironment"/> behind an ML.NET catalog.</summary>
internal static class HostEnvironmentAccess
{
    // ML.NET keeps the environment in a private field; its own extension packages read it through internal APIs that a
    // third-party assembly cannot see. The field has had this name since 2019. If it ever changes, fail loudly: falling
    // back to a fresh MLContext would silently drop the user's seed, log and settings.
    private static readonly FieldInfo? s_envField =
        typeof(TransformsCatalog).GetField("_env", BindingFlags.NonPublic | BindingFlags.Instance);

    /// <summary>Returns the environment of the <see cref="MLContext"/> that owns <paramref name="catalog"/>.</summary>
    public static IHostEnvironment FromTransforms(TransformsCatalog catalog)
    {
        if (s_envField?.GetValue(catalog) is IHostEnvironment env)
            return env;
        throw new InvalidOperationException(
            "Microsoft.ML.DiffNft cannot reach the ML.NET environment of this MLContext: the private field " +
            $"TransformsCatalog._env was not found in {typeof(TransformsCatalog).Assembly.GetName()}. This version of " +
            "Microsoft.ML changed its internals; use the Microsoft.ML version this package was built against (5.0.x).");
    }
}
