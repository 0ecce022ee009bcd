namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// A diffusers config value that is either one number for every block (<c>"attention_head_dim": 8</c>) or one per block
/// (<c>"attention_head_dim": [5, 10, 20, 20]</c>).
/// </summary>
internal sealed record PerBlock
{
    private readonly int[] _values;

    private PerBlock(int[] values, bool isScalar)
    {
        _values = values;
        IsScalar = isScalar;
    }

    /// <summary>The same value for every block.</summary>
    public static PerBlock Of(int value) => new([value], true);

    /// <summary>One value per block, in down-block order.</summary>
    public static PerBlock List(params int[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new((int[])values.Clone(), false);
    }

    /// <summary>Whether one value applies to every block.</summary>
    public bool IsScalar { get; }

    /// <summary>The values as written (one for a scalar).</summary>
    public IReadOnlyList<int> Values => _values;

    /// <summary>The value for down block <paramref name="block"/> (the scalar for every block).</summary>
    public int At(int block) => IsScalar ? _values[0] : _values[block];

    /// <summary>Checks the list length against the number of blocks and every value is positive.</summary>
    /// <exception cref="InvalidDataException">Naming <paramref name="key"/> and <paramref name="source"/>.</exception>
    public void Validate(string key, int blocks, string source)
    {
        if (!IsScalar && _values.Length != blocks)
            throw new InvalidDataException($"{source}: '{key}' lists {_values.Length} values but there are {blocks} blocks (down_block_types); give one per block or a single number.");
        foreach (int v in _values)
            if (v <= 0)
                throw new InvalidDataException($"{source}: '{key}' must be positive, got {this}.");
    }

    /// <inheritdoc />
    public bool Equals(PerBlock? other) => other is not null && IsScalar == other.IsScalar && _values.AsSpan().SequenceEqual(other._values);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(IsScalar, _values.Length, _values[0]);

    /// <summary>As in the config: <c>8</c> or <c>[5, 10, 20, 20]</c>.</summary>
    public override string ToString() => IsScalar ? _values[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : "[" + string.Join(", ", _values) + "]";
}
