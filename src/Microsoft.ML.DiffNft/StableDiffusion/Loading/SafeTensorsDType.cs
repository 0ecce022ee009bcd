using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>The floating-point element types <see cref="SafeTensorsWriter"/> stores tensors in.</summary>
internal enum SafeTensorsDType
{
    /// <summary>32-bit IEEE float (safetensors code F32).</summary>
    F32,
    /// <summary>16-bit IEEE half (F16): half the size; values beyond ±65504 overflow.</summary>
    F16,
    /// <summary>bfloat16 (BF16): half the size with float32's range, 8 bits of mantissa.</summary>
    BF16,
}

/// <summary>
/// The safetensors dtype codes the Stable Diffusion loader reads and writes, and their torch element types: weights
/// come as F32, F16 or BF16; integer buffers (such as a text encoder's position ids) as I64.
/// </summary>
internal static class SafeTensorsDTypes
{
    /// <summary>The torch element type of a safetensors dtype code, or null when the loader does not read that code.</summary>
    /// <param name="code">A safetensors dtype code such as "F16".</param>
    public static ScalarType? ToScalarType(string code) => code switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        _ => null,
    };

    /// <summary>The safetensors dtype code of a torch element type, or null when the loader does not write it.</summary>
    /// <param name="type">A torch element type.</param>
    public static string? ToCode(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        _ => null,
    };

    /// <summary>The torch element type of a floating-point storage type.</summary>
    /// <param name="type">The storage type.</param>
    public static ScalarType ToScalarType(SafeTensorsDType type) => type switch
    {
        SafeTensorsDType.F32 => ScalarType.Float32,
        SafeTensorsDType.F16 => ScalarType.Float16,
        SafeTensorsDType.BF16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Expected F32, F16 or BF16."),
    };

    /// <summary>The codes the loader reads, for error messages.</summary>
    public const string Readable = "F32, F16, BF16 (weights) and I64 (integer buffers)";

    /// <summary>
    /// Whether data of the safetensors type <paramref name="code"/> may be copied into a tensor of type
    /// <paramref name="destination"/>: floating-point data into any floating-point tensor (converted), integer data
    /// into any integer tensor — never across, which would silently truncate or reinterpret.
    /// </summary>
    /// <param name="code">The file's dtype code.</param>
    /// <param name="destination">The destination tensor's element type.</param>
    public static bool CanCopy(string code, ScalarType destination) => ToScalarType(code) switch
    {
        null => false,
        ScalarType.Int64 => is_integral(destination),
        _ => is_floating_point(destination),
    };
}
