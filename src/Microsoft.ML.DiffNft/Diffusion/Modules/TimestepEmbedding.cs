using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>Sinusoidal embedding of the diffusion timestep followed by a two-layer MLP (DDPM, "Attention is all you need" frequencies).</summary>
internal sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly int _dim;
    private readonly TorchSharp.Modules.Linear fc1;
    private readonly TorchSharp.Modules.Linear fc2;

    public TimestepEmbedding(int dim, int outDim) : base(nameof(TimestepEmbedding))
    {
        if (dim % 2 != 0) throw new ArgumentException($"The timestep embedding dimension must be even, got {dim}.");
        _dim = dim;
        fc1 = nn.Linear(dim, outDim);
        fc2 = nn.Linear(outDim, outDim);
        RegisterComponents();
    }

    /// <summary>Embeds integer timesteps of shape [B].</summary>
    public override Tensor forward(Tensor t)
    {
        using var scope = NewDisposeScope();
        int half = _dim / 2;
        var freqs = exp(arange(half, dtype: float32, device: t.device) * (-Math.Log(10000.0) / half));
        var args = t.to_type(float32).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = cat(new[] { sin(args), cos(args) }, 1);
        return fc2.call(nn.functional.silu(fc1.call(emb))).MoveToOuterDisposeScope();
    }
}
