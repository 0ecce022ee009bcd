using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// Random tensors from explicitly seeded generators, for any device. The generators are CPU generators and the draws
/// are moved to the target device afterwards, for two reasons: TorchSharp 0.107's <c>Generator(seed, device)</c> gives a
/// CPU generator even for a CUDA device, which libtorch then rejects ("Expected a 'cuda' device type for generator"),
/// and CPU draws make a seed mean the same noise on every device, so CPU and GPU runs start from identical noise.
/// The cost is small: a step's noise is a few hundred thousand numbers.
/// </summary>
internal static class SeededRandom
{
    /// <summary>A CPU generator seeded with <paramref name="seed"/>.</summary>
    public static Generator Create(ulong seed) => new(seed, CPU);

    /// <summary>Standard normal draws of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Randn(long[] shape, Generator generator, Device device) =>
        OnDevice(randn(shape, generator: generator), device);

    /// <summary>Uniform [0, 1) draws of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Rand(long[] shape, Generator generator, Device device) =>
        OnDevice(rand(shape, generator: generator), device);

    /// <summary>Uniform integers in [0, <paramref name="high"/>) of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Randint(long high, long[] shape, Generator generator, Device device) =>
        OnDevice(randint(high, shape, generator: generator), device);

    private static Tensor OnDevice(Tensor cpu, Device device)
    {
        if (device.type == TorchSharp.DeviceType.CPU) return cpu;
        var moved = cpu.to(device);
        cpu.Dispose();
        return moved;
    }
}
