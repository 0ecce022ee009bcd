using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// Reads one input row's trait values and computes its rarity outputs once per row position, on first request. One per
/// cursor (or mapped row), never shared between threads.
/// </summary>
internal sealed class RarityRowState
{
    private readonly DataViewRow _input;
    private readonly TraitRarityTable _table;
    private readonly ValueGetter<ReadOnlyMemory<char>>[] _getters;
    private readonly int[] _slots;
    private char[] _buffer = new char[TraitText.BufferLength];
    private ReadOnlyMemory<char> _value;

    private long _position = long.MinValue;   // the input position the outputs were computed for
    private double _score;
    private int _unique;
    private int _traitCount;
    private int _rank;
    private bool _rankDone;
    private double[]? _probabilities;
    private bool _probabilitiesDone;

    public RarityRowState(DataViewRow input, TraitRarityBinding binding, bool needsTraits)
    {
        _input = input;
        _table = binding.Transformer.Table;
        _slots = new int[binding.TraitInputs.Length];
        _getters = needsTraits
            ? binding.TraitInputs.Select(c => input.GetGetter<ReadOnlyMemory<char>>(c)).ToArray()
            : [];
    }

    public double Score
    {
        get
        {
            Ensure();
            return _score;
        }
    }

    public int Rank
    {
        get
        {
            Ensure();
            if (!_rankDone)
            {
                _rank = _table.Ranking.Rank(_table.Method == RarityMethod.OpenRarity ? _unique : 0, _table.Scorer.Key(_score));
                _rankDone = true;
            }
            return _rank;
        }
    }

    public bool IsRare
    {
        get
        {
            Ensure();
            return _table.Ranking.IsRare(_table.Scorer.Key(_score));
        }
    }

    public ReadOnlySpan<double> Probabilities
    {
        get
        {
            Ensure();
            if (!_probabilitiesDone)
            {
                _probabilities ??= new double[_slots.Length + (_table.IncludesTraitCount ? 1 : 0)];
                _table.Scorer.Probabilities(_slots, _traitCount, _probabilities);
                _probabilitiesDone = true;
            }
            return _probabilities;
        }
    }

    private void Ensure()
    {
        long position = _input.Position;
        if (position == _position) return;
        for (int j = 0; j < _getters.Length; j++)
        {
            _getters[j](ref _value);
            _slots[j] = _table.Slot(j, _value.Span, ref _buffer);
        }
        _score = _table.Scorer.Score(_slots, out _unique, out _traitCount);
        _rankDone = false;
        _probabilitiesDone = false;
        _position = position;
    }
}
