using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>
/// A batch of rows for a list of <see cref="ColumnSpec"/>s as plain .NET arrays, one array per column:
/// <c>string[]</c> for text, <c>float[]</c> for Single, <c>float[][]</c> for vectors, <c>uint[]</c> for keys.
/// Arrays have <see cref="Capacity"/> elements; rows 0..<see cref="Count"/>-1 are valid. For output
/// batches the vector rows are pre-allocated with the column's size and reused between batches.
/// </summary>
internal sealed class ColumnBatch
{
    private readonly Array[] _columns;

    /// <summary>Creates an empty batch for <paramref name="specs"/> holding up to <paramref name="capacity"/> rows.</summary>
    public ColumnBatch(IReadOnlyList<ColumnSpec> specs, int capacity)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Specs = specs;
        Capacity = capacity;
        _columns = new Array[specs.Count];
        for (int c = 0; c < specs.Count; c++)
        {
            _columns[c] = specs[c].Kind switch
            {
                ColumnKind.Text => new string[capacity],
                ColumnKind.Single => new float[capacity],
                ColumnKind.Key => new uint[capacity],
                ColumnKind.SingleVector => AllocateVectors(capacity, specs[c].Size),
                _ => throw new InvalidOperationException($"Unknown column kind {specs[c].Kind}."),
            };
        }
    }

    private static float[][] AllocateVectors(int capacity, int size)
    {
        var rows = new float[capacity][];
        for (int i = 0; i < capacity; i++) rows[i] = size > 0 ? new float[size] : Array.Empty<float>();
        return rows;
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<ColumnSpec> Specs { get; }
    /// <summary>Maximum number of rows.</summary>
    public int Capacity { get; }
    /// <summary>Number of valid rows.</summary>
    public int Count { get; internal set; }

    /// <summary>Text values of column <paramref name="column"/>.</summary>
    public string[] Text(int column) => Get<string[]>(column, ColumnKind.Text);
    /// <summary>Single values of column <paramref name="column"/>.</summary>
    public float[] Singles(int column) => Get<float[]>(column, ColumnKind.Single);
    /// <summary>Dense vectors of column <paramref name="column"/>, one array per row.</summary>
    public float[][] Vectors(int column) => Get<float[][]>(column, ColumnKind.SingleVector);
    /// <summary>Key values (1-based, 0 = missing) of column <paramref name="column"/>.</summary>
    public uint[] Keys(int column) => Get<uint[]>(column, ColumnKind.Key);

    private T Get<T>(int column, ColumnKind kind) where T : class
    {
        if ((uint)column >= (uint)_columns.Length) throw new ArgumentOutOfRangeException(nameof(column), column, $"The batch has {_columns.Length} columns.");
        if (Specs[column].Kind != kind)
            throw new InvalidOperationException($"Column {Specs[column]} is {Specs[column].Kind}, not {kind}.");
        return (T)(object)_columns[column];
    }

    /// <summary>
    /// Reads up to <paramref name="maxRows"/> rows of <paramref name="specs"/> from <paramref name="data"/>
    /// (all rows when null), checking the schema first. Estimators use it to collect training data.
    /// </summary>
    public static ColumnBatch Read(IDataView data, IReadOnlyList<ColumnSpec> specs, int? maxRows = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var columns = SchemaChecks.RequireAll(data.Schema, specs);
        var rows = new List<object[]>();
        using (var cursor = data.GetRowCursor(columns))
        {
            var readers = columns.Select((col, i) => InputReader.Create(cursor, col, specs[i])).ToArray();
            var tmp = new ColumnBatch(specs, 1);
            while ((maxRows is null || rows.Count < maxRows) && cursor.MoveNext())
            {
                var row = new object[specs.Count];
                for (int c = 0; c < specs.Count; c++)
                {
                    readers[c].Read(tmp, c, 0);
                    row[c] = tmp._columns[c].GetValue(0)!;
                    if (row[c] is float[] v) row[c] = v.ToArray(); // the reader reuses the row's vector
                }
                rows.Add(row);
            }
        }
        var batch = new ColumnBatch(specs, Math.Max(1, rows.Count)) { Count = rows.Count };
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < specs.Count; c++)
                batch._columns[c].SetValue(rows[r][c], r);
        return batch;
    }
}

/// <summary>Copies one input column of the current row into a <see cref="ColumnBatch"/> slot.</summary>
internal abstract class InputReader
{
    public abstract void Read(ColumnBatch batch, int column, int slot);

    public static InputReader Create(DataViewRow row, DataViewSchema.Column column, ColumnSpec spec) => spec.Kind switch
    {
        ColumnKind.Text => new TextReader(row.GetGetter<ReadOnlyMemory<char>>(column)),
        ColumnKind.Single => new SingleReader(row.GetGetter<float>(column)),
        ColumnKind.Key => new KeyReader(row.GetGetter<uint>(column)),
        ColumnKind.SingleVector => new VectorReader(row.GetGetter<VBuffer<float>>(column)),
        _ => throw new InvalidOperationException($"Unknown column kind {spec.Kind}."),
    };

    private sealed class TextReader(ValueGetter<ReadOnlyMemory<char>> getter) : InputReader
    {
        private ReadOnlyMemory<char> _value;
        public override void Read(ColumnBatch batch, int column, int slot) { getter(ref _value); batch.Text(column)[slot] = _value.ToString(); }
    }

    private sealed class SingleReader(ValueGetter<float> getter) : InputReader
    {
        private float _value;
        public override void Read(ColumnBatch batch, int column, int slot) { getter(ref _value); batch.Singles(column)[slot] = _value; }
    }

    private sealed class KeyReader(ValueGetter<uint> getter) : InputReader
    {
        private uint _value;
        public override void Read(ColumnBatch batch, int column, int slot) { getter(ref _value); batch.Keys(column)[slot] = _value; }
    }

    private sealed class VectorReader(ValueGetter<VBuffer<float>> getter) : InputReader
    {
        private VBuffer<float> _value;
        public override void Read(ColumnBatch batch, int column, int slot)
        {
            getter(ref _value);
            var rows = batch.Vectors(column);
            if (rows[slot].Length != _value.Length) rows[slot] = new float[_value.Length]; // variable-size inputs
            _value.CopyTo(rows[slot]); // densifies sparse vectors
        }
    }
}
