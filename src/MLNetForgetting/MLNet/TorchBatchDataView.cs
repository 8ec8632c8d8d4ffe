using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>The lazy output of <see cref="TorchRowTransformer.Transform"/>: input columns, then ours.</summary>
internal sealed class TorchBatchDataView : IDataView
{
    private readonly TorchRowTransformer _parent;
    private readonly IDataView _input;
    private readonly DataViewSchema.Column[] _modelInputs;

    public TorchBatchDataView(TorchRowTransformer parent, IDataView input, DataViewSchema schema, DataViewSchema.Column[] modelInputs)
    {
        _parent = parent; _input = input; Schema = schema; _modelInputs = modelInputs;
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => _input.CanShuffle;
    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        int inputCount = _input.Schema.Count;
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        bool anyOutput = active.AsSpan(inputCount).Contains(true);
        var inputActive = new SortedSet<int>();
        for (int i = 0; i < inputCount; i++) if (active[i]) inputActive.Add(i);
        if (anyOutput) foreach (var c in _modelInputs) inputActive.Add(c.Index);
        var inputCursor = _input.GetRowCursor(inputActive.Select(i => _input.Schema[i]), rand);
        return new Cursor(_parent, Schema, inputCursor, active, inputCount, anyOutput ? _modelInputs : null);
    }

    // One cursor is a valid answer to a request for n; batching needs one sequential reader anyway.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TorchRowTransformer _parent;
        private readonly DataViewRowCursor _input;
        private readonly bool[] _active;
        private readonly int _inputCount;
        private readonly bool _batching;
        private readonly RowValueBuffer?[] _buffers = Array.Empty<RowValueBuffer?>();
        private readonly InputReader[] _readers = Array.Empty<InputReader>();
        private readonly ValueGetter<DataViewRowId>? _idGetter;
        private readonly DataViewRowId[] _ids = Array.Empty<DataViewRowId>();
        private readonly ColumnBatch? _inputs, _outputs;
        private readonly Action _ensureComputed;
        private readonly Func<int> _currentSlot;
        private int _slot = -1, _count;
        private bool _computed;
        private long _position = -1;

        public Cursor(TorchRowTransformer parent, DataViewSchema schema, DataViewRowCursor input, bool[] active, int inputCount, DataViewSchema.Column[]? modelInputs)
        {
            _parent = parent; Schema = schema; _input = input; _active = active; _inputCount = inputCount;
            _batching = modelInputs is not null;
            _ensureComputed = EnsureComputed;
            _currentSlot = () => _slot;
            if (!_batching) return;
            int capacity = parent.BatchSize;
            _buffers = new RowValueBuffer?[inputCount];
            for (int i = 0; i < inputCount; i++)
                if (active[i]) _buffers[i] = RowValueBuffer.Create(input, input.Schema[i], capacity);
            _idGetter = input.GetIdGetter();
            _ids = new DataViewRowId[capacity];
            _inputs = new ColumnBatch(parent.InputColumns, capacity);
            _outputs = new ColumnBatch(parent.OutputColumns, capacity);
            _readers = modelInputs!.Select((c, i) => InputReader.Create(input, c, parent.InputColumns[i])).ToArray();
        }

        public override DataViewSchema Schema { get; }
        public override long Position => _batching ? _position : _input.Position;
        public override long Batch => _batching ? 0 : _input.Batch;
        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override bool MoveNext()
        {
            if (!_batching) return _input.MoveNext();
            if (_slot + 1 < _count) { _slot++; _position++; return true; }
            int n = 0;
            while (n < _ids.Length && _input.MoveNext())
            {
                foreach (var b in _buffers) b?.Fill(n);
                _idGetter!(ref _ids[n]);
                for (int c = 0; c < _readers.Length; c++) _readers[c].Read(_inputs!, c, n);
                n++;
            }
            _count = n;
            if (n == 0) { _slot = -1; return false; }
            _inputs!.Count = n;
            _computed = false;
            _slot = 0;
            _position++;
            return true;
        }

        private void EnsureComputed()
        {
            if (_computed) return;
            _parent.RunBatch(_inputs!, _outputs!);
            _computed = true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter()
        {
            if (!_batching) return _input.GetIdGetter();
            return (ref DataViewRowId v) => v = _ids[_slot];
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index]) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            if (column.Index >= _inputCount) return OutputGetters.Make<TValue>(_outputs!, column.Index - _inputCount, _currentSlot, _ensureComputed);
            if (!_batching) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return _buffers[column.Index]!.MakeGetter(_currentSlot) as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': {typeof(TValue)}, expected {column.Type.RawType}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
