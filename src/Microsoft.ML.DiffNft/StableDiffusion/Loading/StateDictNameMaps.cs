using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>Built-in tensor renamings for checkpoints saved under older names.</summary>
internal static partial class StateDictNameMaps
{
    /// <summary>
    /// Maps the deprecated names of an AutoencoderKL's mid-block attention to current diffusers names, as diffusers
    /// itself does when it loads such a checkpoint: <c>{encoder|decoder}.mid_block.attentions.N.query</c> →
    /// <c>to_q</c>, <c>key</c> → <c>to_k</c>, <c>value</c> → <c>to_v</c>, <c>proj_attn</c> → <c>to_out.0</c> (weights and
    /// biases; <c>group_norm</c> keeps its name). Older VAE files — including the Stable Diffusion 1.5 and 2.1 ones
    /// still published — use these names; the weights are the same linear layers. Any other name is returned unchanged.
    /// </summary>
    /// <param name="name">A tensor name from a VAE file.</param>
    public static string LegacyVaeAttention(string name)
    {
        var m = LegacyAttention().Match(name);
        if (!m.Success) return name;
        string current = m.Groups["old"].Value switch
        {
            "query" => "to_q",
            "key" => "to_k",
            "value" => "to_v",
            _ => "to_out.0",
        };
        return $"{m.Groups["block"].Value}.{current}.{m.Groups["kind"].Value}";
    }

    [GeneratedRegex(@"^(?<block>(?:encoder|decoder)\.mid_block\.attentions\.\d+)\.(?<old>query|key|value|proj_attn)\.(?<kind>weight|bias)$", RegexOptions.CultureInvariant)]
    private static partial Regex LegacyAttention();
}
