using System.Runtime.InteropServices;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// Makes libtorch's MKL matrix products give the same bits wherever their operands lie in memory.
/// </summary>
/// <remarks>
/// Without it, MKL picks kernels by the operands' alignment: multiplying the same 8×512 float64 matrix by its transpose
/// 2,000 times in one process gave two different results, alternating with the allocator's addresses. A rerun with the
/// same seed then differed in the last digit of KID (a resumed sweep did not reproduce its own numbers). MKL's
/// conditional numerical reproducibility in its AUTO mode removes the alignment dependence and keeps MKL's choice of
/// instruction set. MKL reads <c>MKL_CBWR</c> from the native environment when it first runs, and .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not write that environment on Unix, so this
/// calls the C library's <c>setenv</c> before torch loads. A value the user already set wins.
/// </remarks>
internal static partial class MklReproducibility
{
    private static volatile bool _applied;

    /// <summary>The environment variable MKL reads.</summary>
    public const string Variable = "MKL_CBWR";

    /// <summary>Sets <c>MKL_CBWR=AUTO</c> in the native environment unless it is set; call before libtorch loads.</summary>
    public static void Apply()
    {
        // Once per process: TorchRuntime.EnsureLoaded calls this on every use of torch.
        if (_applied) return;
        _applied = true;
        // Linux only: that is where it was measured. On Windows (where libtorch also ships MKL) the C runtime keeps its
        // own copy of the environment; users there set MKL_CBWR=AUTO themselves (docs/troubleshooting.md).
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null) return;
        _ = SetEnv(Variable, "AUTO", 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
