using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>One-row mapper of a <see cref="TorchRowTransformer"/> (prediction engines, composite mappers).</summary>
internal sealed class TorchRowMapper : IRowToRowMapper
{
    private readonly TorchRowTransformer _parent;
    private readonly DataViewSchema.Column[] _modelInputs;

    public TorchRowMapper(TorchRowTransformer parent, DataViewSchema inputSchema, DataViewSchema outputSchema, DataViewSchema.Column[] modelInputs)
    {
        _parent = parent; InputSchema = inputSchema; OutputSchema = outputSchema; _modelInputs = modelInputs;
    }

    public DataViewSchema InputSchema { get; }
    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new SortedSet<int>();
        bool anyOutput = false;
        foreach (var c in dependingColumns)
        {
            if (c.Index < InputSchema.Count) needed.Add(c.Index); else anyOutput = true;
        }
        if (anyOutput) foreach (var c in _modelInputs) needed.Add(c.Index);
        return needed.Select(i => InputSchema[i]).ToArray();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        var active = new bool[OutputSchema.Count];
        foreach (var c in activeColumns) active[c.Index] = true;
        return new Row(this, input, active);
    }

    private sealed class Row : DataViewRow
    {
        private readonly TorchRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly bool[] _active;
        private readonly InputReader[]? _readers;
        private readonly ColumnBatch? _inputs, _outputs;
        private readonly Action _ensureComputed;
        private static readonly Func<int> SlotZero = () => 0;
        private long _computedAt = long.MinValue;

        public Row(TorchRowMapper mapper, DataViewRow input, bool[] active)
        {
            _mapper = mapper; _input = input; _active = active;
            _ensureComputed = EnsureComputed;
            int n = mapper.InputSchema.Count;
            if (active.AsSpan(n).Contains(true))
            {
                var parent = mapper._parent;
                _readers = mapper._modelInputs.Select((c, i) => InputReader.Create(input, c, parent.InputColumns[i])).ToArray();
                _inputs = new ColumnBatch(parent.InputColumns, 1);
                _outputs = new ColumnBatch(parent.OutputColumns, 1);
            }
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;
        public override long Position => _input.Position;
        public override long Batch => _input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        // Outputs are cached per input position so several output getters share one forward pass; a row
        // without a meaningful position (negative) recomputes on every read.
        private void EnsureComputed()
        {
            long position = _input.Position;
            if (position >= 0 && position == _computedAt) return;
            for (int c = 0; c < _readers!.Length; c++) _readers[c].Read(_inputs!, c, 0);
            _inputs!.Count = 1;
            _mapper._parent.RunBatch(_inputs, _outputs!);
            _computedAt = position;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index]) throw new InvalidOperationException($"Column '{column.Name}' is not active in this row.");
            int n = _mapper.InputSchema.Count;
            if (column.Index < n) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return OutputGetters.Make<TValue>(_outputs!, column.Index - n, SlotZero, _ensureComputed);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
