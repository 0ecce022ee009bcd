using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>The feed-forward activations a CLIP text encoder's <c>hidden_act</c> may name (the ones Stable Diffusion uses).</summary>
internal enum ClipActivation
{
    /// <summary><c>"quick_gelu"</c>: x·σ(1.702x), OpenAI CLIP's approximation (SD 1.x's ViT-L/14 text encoder).</summary>
    QuickGelu,

    /// <summary><c>"gelu"</c>: the exact GELU, x·Φ(x) with the error function (SD 2.x's OpenCLIP ViT-H/14 text encoder).</summary>
    Gelu,
}

/// <summary>Applies a <see cref="ClipActivation"/> and maps it to and from the names in <c>config.json</c>.</summary>
internal static class ClipActivations
{
    /// <summary>The <c>hidden_act</c> value that names <paramref name="activation"/>.</summary>
    public static string ConfigName(ClipActivation activation) => activation switch
    {
        ClipActivation.QuickGelu => "quick_gelu",
        ClipActivation.Gelu => "gelu",
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown CLIP activation."),
    };

    /// <summary>Parses a <c>hidden_act</c> value; null when it is not one this encoder implements.</summary>
    public static ClipActivation? TryParse(string name) => name switch
    {
        "quick_gelu" => ClipActivation.QuickGelu,
        "gelu" => ClipActivation.Gelu,
        _ => null,
    };

    /// <summary>Applies the activation element-wise.</summary>
    public static Tensor Apply(ClipActivation activation, Tensor x) => activation switch
    {
        // 1.702 is the constant OpenAI CLIP was trained with; it is part of the weights' meaning, not a tunable.
        ClipActivation.QuickGelu => x * sigmoid(x * 1.702),
        // The erf form, not the tanh approximation: transformers' "gelu" is torch's default GELU.
        ClipActivation.Gelu => nn.functional.gelu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown CLIP activation."),
    };
}
