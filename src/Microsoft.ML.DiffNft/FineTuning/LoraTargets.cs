namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>Which layers of the diffusion network receive a LoRA adapter (flags; combine with <c>|</c>).</summary>
[Flags]
public enum LoraTargets
{
    /// <summary>No layer.</summary>
    None = 0,

    /// <summary>The query, key, value and output projections of the UNet's self- and cross-attention.</summary>
    Attention = 1,

    /// <summary>
    /// The other linear layers of the UNet: the FiLM projections of every residual block (per-channel scale and shift
    /// from time and prompt), the timestep MLP and the prompt-to-embedding projection.
    /// </summary>
    Conditioning = 2,

    /// <summary>The linear layers of the prompt encoder's transformer.</summary>
    TextEncoder = 4,

    /// <summary>The UNet's convolutions (a k×k down-projection to the rank, then a 1×1 up-projection).</summary>
    Convolutions = 8,

    /// <summary>Attention and conditioning layers: every linear layer of the UNet (the default).</summary>
    Linear = Attention | Conditioning,

    /// <summary>Every supported layer.</summary>
    All = Attention | Conditioning | TextEncoder | Convolutions,
}
