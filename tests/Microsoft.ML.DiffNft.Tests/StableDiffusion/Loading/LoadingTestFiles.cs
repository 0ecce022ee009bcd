using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

/// <summary>
/// A small module with the kinds of tensors the Stable Diffusion modules hold — a Linear, a Conv2d, a LayerNorm, a
/// ModuleList, an int64 persistent buffer and a non-persistent one that must not be saved or loaded.
/// </summary>
internal sealed class TinyNet : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear proj;
    private readonly TorchSharp.Modules.Conv2d conv;
    private readonly TorchSharp.Modules.LayerNorm norm;
    private readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Linear> blocks;

    public TinyNet(ScalarType dtype = ScalarType.Float32) : base(nameof(TinyNet))
    {
        proj = nn.Linear(3, 4, dtype: dtype);
        conv = nn.Conv2d(2, 3, 3, dtype: dtype);
        norm = nn.LayerNorm(4, dtype: dtype);
        blocks = nn.ModuleList(nn.Linear(4, 4, dtype: dtype), nn.Linear(4, 4, hasBias: false, dtype: dtype));
        register_buffer("position_ids", arange(5L).unsqueeze(0));
        register_buffer("scratch", zeros(2), persistent: false);
        RegisterComponents();
    }

    /// <summary>The names and shapes of the state dict, as a file for this module holds them.</summary>
    public static readonly (string Name, long[] Shape)[] Layout =
    [
        ("proj.weight", [4, 3]), ("proj.bias", [4]),
        ("conv.weight", [3, 2, 3, 3]), ("conv.bias", [3]),
        ("norm.weight", [4]), ("norm.bias", [4]),
        ("blocks.0.weight", [4, 4]), ("blocks.0.bias", [4]), ("blocks.1.weight", [4, 4]),
        ("position_ids", [1, 5]),
    ];

    public override Tensor forward(Tensor x) => blocks[1].call(blocks[0].call(norm.call(proj.call(x))));

    /// <summary>Fills every float parameter with distinct values (no RNG): element i of the k-th tensor gets k + i/64.</summary>
    public TinyNet Fill(double offset = 0)
    {
        using var noGrad = no_grad();
        int k = 0;
        foreach (var (name, p) in named_parameters())
        {
            using var values = arange(p.numel(), dtype: ScalarType.Float64).div(64).add(k++ + offset).reshape(p.shape);
            p.copy_(values);
        }
        return this;
    }
}

/// <summary>Helpers that write safetensors files by hand, for files no correct writer would produce.</summary>
internal static class RawSafeTensors
{
    /// <summary>A file of the given header JSON (padded to 8) and data bytes.</summary>
    public static byte[] Build(string headerJson, ReadOnlySpan<byte> data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        int padded = (header.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        header.CopyTo(file, 8);
        for (int i = 8 + header.Length; i < 8 + padded; i++) file[i] = (byte)' ';
        data.CopyTo(file.AsSpan(8 + padded));
        return file;
    }

    /// <summary>Little-endian float32 bytes.</summary>
    public static byte[] F32(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    /// <summary>Little-endian float16 bytes.</summary>
    public static byte[] F16(params float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        return bytes;
    }

    /// <summary>Little-endian bfloat16 bytes: the upper half of the float32 bits (the values used are exact in bf16).</summary>
    public static byte[] BF16(params float[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
        return bytes;
    }

    /// <summary>Same shape, same element type and equal elements.</summary>
    public static bool Same(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    /// <summary>Writes the module's state dict with TorchSharp.PyBridge — an independent safetensors writer.</summary>
    public static void WriteWithPyBridge(string path, IReadOnlyDictionary<string, Tensor> tensors) =>
        File.WriteAllBytes(path, ModelArchive.SaveTensors(tensors));
}
