using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Turns trait types into column names that are safe everywhere (letters, digits and '_'): runs of other characters
/// become one '_', and leading and trailing '_' are dropped ("Accessory II" → "Accessory_II", "# Traits" → "Traits",
/// "4:20 watch" → "4_20_watch"). A name that comes out empty becomes "Trait". A name already taken — by an earlier
/// trait or by <c>TokenId</c>, <c>Image</c> or <c>Caption</c> — gets "_2", "_3", …; the first trait in collection order
/// keeps the plain name, so the mapping is deterministic.
/// </summary>
internal static class TraitColumnNaming
{
    /// <summary>Column names for trait types, in the same order.</summary>
    public static string[] Assign(IReadOnlyList<string> traitTypes)
    {
        var used = new HashSet<string>(StringComparer.Ordinal)
        {
            NftSchema.TokenIdColumnName, NftSchema.ImageColumnName, NftSchema.CaptionColumnName,
        };
        var names = new string[traitTypes.Count];
        for (int i = 0; i < names.Length; i++)
        {
            string baseName = Sanitize(traitTypes[i]);
            string name = baseName;
            for (int n = 2; !used.Add(name); n++) name = baseName + "_" + n.ToString(CultureInfo.InvariantCulture);
            names[i] = name;
        }
        return names;
    }

    /// <summary>The trait type reduced to letters, digits and single underscores.</summary>
    public static string Sanitize(string traitType)
    {
        var sb = new StringBuilder(traitType.Length);
        bool pendingUnderscore = false;
        foreach (char c in traitType)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (pendingUnderscore && sb.Length > 0) sb.Append('_');
                pendingUnderscore = false;
                sb.Append(c);
            }
            else
            {
                pendingUnderscore = true; // '_' itself and everything else collapse into one separator
            }
        }
        return sb.Length == 0 ? "Trait" : sb.ToString();
    }
}
