using Microsoft.ML.DiffNft.Diffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Low-rank adapters (LoRA, Hu et al. 2021) attached to a network's linear and convolution layers through forward hooks:
/// each adapted layer's output becomes W·x + (α/r)·B·A·x, with A [r, in] drawn at random and B [out, r] zero, so a fresh
/// adapter leaves the network's outputs bit-identical. The network's own weights are untouched and its state dict stays
/// the plain model's; switching the adapter off gives back the original network exactly, which is how fine-tuning gets
/// its frozen reference policy without a second copy of the network.
/// </summary>
/// <remarks>
/// Hooks run only when a layer is invoked through <c>call</c> (the convention of every DiffNft module). The adapter
/// belongs to one network at a time; <see cref="Dispose"/> removes the hooks and frees the adapter's tensors.
/// </remarks>
internal sealed class LoraAdapter : IDisposable
{
    private readonly List<Layer> _layers = new();
    private bool _disposed;

    private LoraAdapter(int rank, double alpha)
    {
        Rank = rank;
        Alpha = alpha;
    }

    /// <summary>The adapter rank r.</summary>
    public int Rank { get; }

    /// <summary>The LoRA α; the update is scaled by α / r.</summary>
    public double Alpha { get; }

    /// <summary>Whether the adapters add their update (true) or the network behaves as without them (false).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Number of adapted layers.</summary>
    public int LayerCount => _layers.Count;

    /// <summary>The trainable tensors by name (<c>{layer}.lora_a</c>, <c>{layer}.lora_b</c>), in a fixed order.</summary>
    public IReadOnlyList<(string Name, Tensor Parameter)> Parameters =>
        _layers.SelectMany(l => new[] { (l.Name + ".lora_a", (Tensor)l.A), (l.Name + ".lora_b", (Tensor)l.B) }).ToList();

    /// <summary>Number of trainable adapter elements.</summary>
    public long ParameterCount => _layers.Sum(l => l.A.numel() + l.B.numel());

    /// <summary>
    /// Attaches adapters to every layer of <paramref name="network"/> selected by <paramref name="targets"/>. A is drawn
    /// from U(−1/√fan_in, 1/√fan_in) with a generator seeded by <paramref name="seed"/> (so adapters are reproducible and
    /// independent of torch's global generator); B starts at zero.
    /// </summary>
    public static LoraAdapter Attach(nn.Module network, int rank, double alpha, LoraTargets targets, long seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "The LoRA rank must be at least 1.");
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The LoRA α must be positive.");
        var adapter = new LoraAdapter(rank, alpha);
        var modules = network.named_modules().ToList();
        var byName = modules.ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        using var gen = SeededRandom.Create((ulong)seed);
        try
        {
            foreach (var (name, module) in modules)
            {
                if (module is Linear linear && targets.HasFlag(Classify(name, byName)))
                    adapter._layers.Add(Layer.ForLinear(adapter, name, linear, gen, device));
                else if (module is Conv2d conv && targets.HasFlag(LoraTargets.Convolutions) && conv.groups == 1
                         && conv.padding_type is null && conv.padding_mode == PaddingModes.Zeros)
                    adapter._layers.Add(Layer.ForConv(adapter, name, conv, gen, device));
            }
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
        if (adapter._layers.Count == 0)
        {
            adapter.Dispose();
            throw new ArgumentException($"LoRA targets {targets} select no layer of the network; choose other targets or a full fine-tune (rank 0).", nameof(targets));
        }
        return adapter;
    }

    /// <summary>
    /// Attaches adapters with given weights to the named linear layers of <paramref name="network"/> (an adapter read
    /// from a file): each layer's update is up·down, with α = r so the scale is 1 — the convention of diffusers' LoRA
    /// files, which store no α.
    /// </summary>
    /// <param name="network">The network to adapt.</param>
    /// <param name="layers">Layer name → (down [r, in], up [out, r]); every layer must exist and be linear.</param>
    /// <param name="source">Names the file in error messages.</param>
    public static LoraAdapter AttachWeights(nn.Module network, IReadOnlyDictionary<string, (Tensor Down, Tensor Up)> layers, string source)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new InvalidDataException($"'{source}' holds no LoRA layer.");
        int rank = (int)layers.First().Value.Down.shape[0];
        var byName = network.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var adapter = new LoraAdapter(rank, rank);
        try
        {
            foreach (var (name, (down, up)) in layers.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                if (!byName.TryGetValue(name, out var module) || module is not Linear linear)
                    throw new InvalidDataException($"'{source}': LoRA layer '{name}' is not a linear layer of this network (an adapter for another architecture?).");
                long[] downShape = [rank, linear.in_features], upShape = [linear.out_features, rank];
                if (!down.shape.SequenceEqual(downShape) || !up.shape.SequenceEqual(upShape))
                    throw new InvalidDataException($"'{source}': LoRA layer '{name}' has down [{string.Join(", ", down.shape)}] and up [{string.Join(", ", up.shape)}]; this network needs [{string.Join(", ", downShape)}] and [{string.Join(", ", upShape)}].");
                adapter._layers.Add(Layer.ForLinear(adapter, name, linear, down, up));
            }
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
        return adapter;
    }

    /// <summary>
    /// Each adapted layer's weights as diffusers stores them: down = A [r, in] and up = (α/r)·B [out, r], so that
    /// up·down is the whole update at scale 1. New CPU float32 tensors, owned by the caller.
    /// </summary>
    public IReadOnlyList<(string Layer, Tensor Down, Tensor Up)> ExportWeights()
    {
        if (_layers.Any(l => l.A.dim() != 2))
            throw new NotSupportedException("Only adapters on linear layers can be exported in diffusers' LoRA format; convolution adapters have no such naming.");
        using var noGrad = no_grad();
        return _layers.Select(l => (l.Name, l.A.detach().to_type(ScalarType.Float32).cpu().clone(),
            (l.B.detach() * l.Scale).to_type(ScalarType.Float32).cpu())).ToList();
    }

    /// <summary>Switches the adapters off until the returned scope is disposed (then restores the previous state).</summary>
    public IDisposable Disable()
    {
        bool previous = Enabled;
        Enabled = false;
        return new Restore(() => Enabled = previous);
    }

    /// <summary>
    /// Adds each adapter's update (α/r)·B·A to the matching layer's weight in <paramref name="network"/>, a network with the
    /// same architecture (layer names) as the adapted one. After merging, that network without adapters computes what the
    /// adapted network computes with them, up to float rounding.
    /// </summary>
    public void MergeInto(nn.Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var byName = network.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var layer in _layers)
        {
            if (!byName.TryGetValue(layer.Name, out var target))
                throw new ArgumentException($"The network has no layer '{layer.Name}' to merge a LoRA adapter into; it is not the adapted architecture.", nameof(network));
            var weight = target switch
            {
                Linear l => l.weight,
                Conv2d c => c.weight,
                _ => throw new ArgumentException($"Layer '{layer.Name}' is a {target.GetType().Name}, not the adapted layer type.", nameof(network)),
            };
            var delta = layer.B.flatten(1).matmul(layer.A.flatten(1)).view(weight.shape);
            weight.add_(delta, alpha: layer.Scale);
        }
    }

    /// <summary>Classifies a linear layer by where it sits in the network.</summary>
    private static LoraTargets Classify(string name, IReadOnlyDictionary<string, nn.Module> byName)
    {
        bool underText = false, inAttention = false;
        string prefix = name;
        int dot;
        bool parent = true;
        while ((dot = prefix.LastIndexOf('.')) > 0)
        {
            prefix = prefix[..dot];
            // Containers (to_out in diffusers' "to_out.0") are transparent: the layer's parent is the module above them.
            if (byName.TryGetValue(prefix, out var m) && !IsContainer(m))
            {
                if (m is TextEncoder) underText = true;
                if (parent && m is IAttentionLayer) inAttention = true;
                parent = false;
            }
        }
        return underText ? LoraTargets.TextEncoder : inAttention ? LoraTargets.Attention : LoraTargets.Conditioning;
    }

    private static bool IsContainer(nn.Module module) =>
        module.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(ModuleList<>)
        || module is Sequential;

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var layer in _layers)
        {
            layer.RemoveHook();
            layer.A.Dispose();
            layer.B.Dispose();
        }
        _layers.Clear();
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private Action? _restore = restore;

        public void Dispose()
        {
            _restore?.Invoke();
            _restore = null;
        }
    }

    /// <summary>One adapted layer: its down- and up-projections and the hook that adds their product.</summary>
    private sealed class Layer
    {
        private Action? _removeHook;

        private Layer(string name, Parameter a, Parameter b, double scale)
        {
            Name = name;
            A = a;
            B = b;
            Scale = scale;
        }

        public string Name { get; }
        public Parameter A { get; }
        public Parameter B { get; }
        public double Scale { get; }

        public static Layer ForLinear(LoraAdapter owner, string name, Linear linear, Generator gen, Device device)
        {
            long fanIn = linear.in_features, fanOut = linear.out_features;
            return Hook(owner, linear, new Layer(name, InitA(new[] { owner.Rank, fanIn }, fanIn, gen, device),
                Zeros(new[] { fanOut, owner.Rank }, device), owner.Alpha / owner.Rank));
        }

        /// <summary>A layer with given weights (copied to the layer weight's device and dtype).</summary>
        public static Layer ForLinear(LoraAdapter owner, string name, Linear linear, Tensor down, Tensor up)
        {
            var like = linear.weight!;
            return Hook(owner, linear, new Layer(name, AsParameter(down.to(like.dtype, like.device).clone()),
                AsParameter(up.to(like.dtype, like.device).clone()), owner.Alpha / owner.Rank));
        }

        private static Layer Hook(LoraAdapter owner, Linear linear, Layer layer)
        {
            var remover = linear.register_forward_hook((_, input, output) =>
                owner.Enabled ? output + nn.functional.linear(nn.functional.linear(input, layer.A), layer.B) * layer.Scale : null!);
            layer._removeHook = remover.remove;
            return layer;
        }

        public static Layer ForConv(LoraAdapter owner, string name, Conv2d conv, Generator gen, Device device)
        {
            long inCh = conv.in_channels, outCh = conv.out_channels, kh = conv.kernel_size[0], kw = conv.kernel_size[^1];
            var layer = new Layer(name, InitA(new[] { owner.Rank, inCh, kh, kw }, inCh * kh * kw, gen, device),
                Zeros(new[] { outCh, owner.Rank, 1L, 1L }, device), owner.Alpha / owner.Rank);
            long[] stride = conv.stride, padding = conv.padding ?? new long[] { 0 }, dilation = conv.dilation;
            var remover = conv.register_forward_hook((_, input, output) =>
            {
                if (!owner.Enabled) return null!;
                var down = nn.functional.conv2d(input, layer.A, null, stride, padding, dilation);
                return output + nn.functional.conv2d(down, layer.B) * layer.Scale;
            });
            layer._removeHook = remover.remove;
            return layer;
        }

        public void RemoveHook()
        {
            _removeHook?.Invoke();
            _removeHook = null;
        }

        private static Parameter InitA(long[] shape, long fanIn, Generator gen, Device device)
        {
            double bound = 1.0 / Math.Sqrt(fanIn);
            var data = SeededRandom.Rand(shape, gen, device);
            data.mul_(2 * bound).sub_(bound);
            return AsParameter(data);
        }

        private static Parameter Zeros(long[] shape, Device device) => AsParameter(zeros(shape, device: device));

        // The parameter takes over the tensor's handle; detached so that a caller's dispose scope cannot free it.
        private static Parameter AsParameter(Tensor data)
        {
            var p = new Parameter(data, requires_grad: true);
            p.DetachFromDisposeScope();
            return p;
        }
    }
}
