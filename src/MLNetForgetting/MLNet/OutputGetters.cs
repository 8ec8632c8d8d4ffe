using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>Builds getters that serve one output column of a computed <see cref="ColumnBatch"/>.</summary>
internal static class OutputGetters
{
    /// <param name="outputs">The computed batch.</param>
    /// <param name="column">Index into the output specs.</param>
    /// <param name="slot">Current row within the batch; read at call time.</param>
    /// <param name="ensureComputed">Runs the batch's forward pass if it has not run yet.</param>
    public static ValueGetter<TValue> Make<TValue>(ColumnBatch outputs, int column, Func<int> slot, Action ensureComputed)
    {
        var spec = outputs.Specs[column];
        Delegate getter = spec.Kind switch
        {
            ColumnKind.Text => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) =>
            {
                ensureComputed();
                v = (outputs.Text(column)[slot()] ?? "").AsMemory();
            }),
            ColumnKind.Single => (ValueGetter<float>)((ref float v) => { ensureComputed(); v = outputs.Singles(column)[slot()]; }),
            ColumnKind.Key => (ValueGetter<uint>)((ref uint v) => { ensureComputed(); v = outputs.Keys(column)[slot()]; }),
            ColumnKind.SingleVector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
            {
                ensureComputed();
                float[] row = outputs.Vectors(column)[slot()];
                if (spec.Size > 0 && row.Length != spec.Size)
                    throw new InvalidOperationException($"Output column {spec} produced a vector of length {row.Length}.");
                var editor = VBufferEditor.Create(ref v, row.Length);
                row.AsSpan().CopyTo(editor.Values);
                v = editor.Commit();
            }),
            _ => throw new InvalidOperationException($"Unknown column kind {spec.Kind}."),
        };
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Invalid TValue in GetGetter for output column {spec}: {typeof(TValue)}, expected {spec.ToDataViewType().RawType}.");
    }
}

/// <summary>
/// Holds the values of one pass-through input column for every row of a batch, because the batching
/// cursor has already moved the input past them. Values are deep-copied: ML.NET getters may reuse
/// their buffers on the next row.
/// </summary>
internal abstract class RowValueBuffer
{
    public abstract void Fill(int slot);
    public abstract Delegate MakeGetter(Func<int> slot);

    public static RowValueBuffer Create(DataViewRow row, DataViewSchema.Column column, int capacity)
    {
        Type raw = column.Type.RawType;
        Type bufferType =
            raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>) ? typeof(VectorBuffer<>).MakeGenericType(raw.GetGenericArguments()[0])
            : raw == typeof(ReadOnlyMemory<char>) ? typeof(TextBuffer)
            : typeof(ScalarBuffer<>).MakeGenericType(raw);
        return (RowValueBuffer)Activator.CreateInstance(bufferType, row, column, capacity)!;
    }

    internal sealed class ScalarBuffer<T> : RowValueBuffer
    {
        private readonly ValueGetter<T> _getter;
        private readonly T[] _values;
        public ScalarBuffer(DataViewRow row, DataViewSchema.Column column, int capacity) { _getter = row.GetGetter<T>(column); _values = new T[capacity]; }
        public override void Fill(int slot) => _getter(ref _values[slot]);
        public override Delegate MakeGetter(Func<int> slot) => (ValueGetter<T>)((ref T v) => v = _values[slot()]);
    }

    internal sealed class TextBuffer : RowValueBuffer
    {
        private readonly ValueGetter<ReadOnlyMemory<char>> _getter;
        private readonly ReadOnlyMemory<char>[] _values;
        private ReadOnlyMemory<char> _tmp;
        public TextBuffer(DataViewRow row, DataViewSchema.Column column, int capacity) { _getter = row.GetGetter<ReadOnlyMemory<char>>(column); _values = new ReadOnlyMemory<char>[capacity]; }
        public override void Fill(int slot) { _getter(ref _tmp); _values[slot] = _tmp.ToString().AsMemory(); }
        public override Delegate MakeGetter(Func<int> slot) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = _values[slot()]);
    }

    internal sealed class VectorBuffer<T> : RowValueBuffer
    {
        private readonly ValueGetter<VBuffer<T>> _getter;
        private readonly VBuffer<T>[] _values;
        private VBuffer<T> _tmp;
        public VectorBuffer(DataViewRow row, DataViewSchema.Column column, int capacity) { _getter = row.GetGetter<VBuffer<T>>(column); _values = new VBuffer<T>[capacity]; }
        public override void Fill(int slot) { _getter(ref _tmp); _tmp.CopyTo(ref _values[slot]); }
        public override Delegate MakeGetter(Func<int> slot) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> v) => _values[slot()].CopyTo(ref v));
    }
}
