using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>The .NET shape a column takes in a <see cref="ColumnBatch"/>.</summary>
internal enum ColumnKind
{
    /// <summary>ML.NET <c>String</c> (text); batch arrays hold <see cref="string"/>.</summary>
    Text,
    /// <summary>ML.NET <c>Single</c>; batch arrays hold <see cref="float"/>.</summary>
    Single,
    /// <summary>ML.NET vector of <c>Single</c>; batch arrays hold dense <c>float[]</c> per row.</summary>
    SingleVector,
    /// <summary>ML.NET key of <c>UInt32</c> (1-based, 0 = missing); batch arrays hold <see cref="uint"/>.</summary>
    Key,
}

/// <summary>
/// Describes one input or output column of a torch-backed component: its name, its role (used in error
/// messages, e.g. "sentence", "features"), and its kind. Inputs may leave the vector size open (0);
/// outputs must give it, and key outputs carry their value names (KeyValues annotation).
/// </summary>
internal sealed class ColumnSpec
{
    private ColumnSpec(string name, string role, ColumnKind kind, int size, IReadOnlyList<string>? keyNames)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        if (size < 0) throw new ArgumentOutOfRangeException(nameof(size), size, "Vector size must be ≥ 0 (0 = any, inputs only).");
        Name = name; Role = role; Kind = kind; Size = size; KeyNames = keyNames;
    }

    /// <summary>Column name in the data view.</summary>
    public string Name { get; }
    /// <summary>What the column means to the component ("sentence", "features", "predicted label").</summary>
    public string Role { get; }
    /// <summary>The column's kind.</summary>
    public ColumnKind Kind { get; }
    /// <summary>Vector length for <see cref="ColumnKind.SingleVector"/>; 0 means any length (inputs only).</summary>
    public int Size { get; }
    /// <summary>Value names of a <see cref="ColumnKind.Key"/> column (key k ↔ KeyNames[k-1]).</summary>
    public IReadOnlyList<string>? KeyNames { get; }

    /// <summary>A text column.</summary>
    public static ColumnSpec Text(string name, string role) => new(name, role, ColumnKind.Text, 0, null);
    /// <summary>A single-precision scalar column.</summary>
    public static ColumnSpec Single(string name, string role) => new(name, role, ColumnKind.Single, 0, null);
    /// <summary>A vector of Single; <paramref name="size"/> 0 accepts any length (inputs only).</summary>
    public static ColumnSpec SingleVector(string name, string role, int size) => new(name, role, ColumnKind.SingleVector, size, null);
    /// <summary>A UInt32 key column whose values are named by <paramref name="keyNames"/> (KeyValues annotation).</summary>
    public static ColumnSpec Key(string name, string role, IReadOnlyList<string> keyNames)
    {
        ArgumentNullException.ThrowIfNull(keyNames);
        if (keyNames.Count == 0) throw new ArgumentException("A key column needs at least one value name.", nameof(keyNames));
        return new(name, role, ColumnKind.Key, 0, keyNames.ToArray());
    }

    /// <summary>The type an input must have, as written in schema errors ("String", "Vector&lt;Single, 8&gt;").</summary>
    public string ExpectedTypeDescription => Kind switch
    {
        ColumnKind.Text => "String",
        ColumnKind.Single => "Single",
        ColumnKind.SingleVector => Size > 0 ? $"Vector<Single, {Size}>" : "Vector<Single>",
        ColumnKind.Key => "Key<UInt32>", // any number of values: they come from the data
        _ => Kind.ToString(),
    };

    /// <summary>True when a data view column of type <paramref name="type"/> can feed this input.</summary>
    public bool Accepts(DataViewType type) => Kind switch
    {
        ColumnKind.Text => type is TextDataViewType,
        ColumnKind.Single => type == NumberDataViewType.Single,
        ColumnKind.SingleVector => type is VectorDataViewType v && v.ItemType == NumberDataViewType.Single && (Size == 0 || v.Size == Size),
        ColumnKind.Key => type is KeyDataViewType k && k.RawType == typeof(uint),
        _ => false,
    };

    /// <summary>Schema-propagation form of <see cref="Accepts(DataViewType)"/> (vector sizes are unknown there).</summary>
    public bool Accepts(SchemaShape.Column column) => Kind switch
    {
        ColumnKind.Text => column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType is TextDataViewType,
        ColumnKind.Single => column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType == NumberDataViewType.Single && !column.IsKey,
        ColumnKind.SingleVector => column.Kind != SchemaShape.Column.VectorKind.Scalar && column.ItemType == NumberDataViewType.Single
            && (Size == 0 || column.Kind == SchemaShape.Column.VectorKind.Vector),
        ColumnKind.Key => column.Kind == SchemaShape.Column.VectorKind.Scalar && column.IsKey && column.ItemType.RawType == typeof(uint),
        _ => false,
    };

    /// <summary>The data view type of this column as an output.</summary>
    public DataViewType ToDataViewType() => Kind switch
    {
        ColumnKind.Text => TextDataViewType.Instance,
        ColumnKind.Single => NumberDataViewType.Single,
        ColumnKind.SingleVector when Size > 0 => new VectorDataViewType(NumberDataViewType.Single, Size),
        ColumnKind.SingleVector => new VectorDataViewType(NumberDataViewType.Single),
        ColumnKind.Key => new KeyDataViewType(typeof(uint), KeyNames!.Count),
        _ => throw new InvalidOperationException($"Unknown column kind {Kind}."),
    };

    internal DataViewSchema.Annotations OutputAnnotations()
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (Kind == ColumnKind.Key)
        {
            var names = KeyNames!.Select(n => n.AsMemory()).ToArray();
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = (ref VBuffer<ReadOnlyMemory<char>> dst) =>
                new VBuffer<ReadOnlyMemory<char>>(names.Length, names).CopyTo(ref dst);
            builder.AddKeyValues(names.Length, TextDataViewType.Instance, getter);
        }
        return builder.ToAnnotations();
    }

    /// <summary>This column as an estimator's output in schema propagation (see the remark inside on vector sizes).</summary>
    internal SchemaShape.Column ToSchemaShapeColumn()
    {
        var type = ToDataViewType();
        // Every output vector of ours has a fixed length once fitted (the model width, the class count),
        // even when the estimator cannot tell the number yet (classes come from the data). SchemaShape
        // carries no lengths, only "known size" (Vector) or not, and stock trainers and NormalizeMinMax
        // require Vector, so an output is always declared Vector.
        var kind = Kind != ColumnKind.SingleVector ? SchemaShape.Column.VectorKind.Scalar : SchemaShape.Column.VectorKind.Vector;
        var itemType = type is VectorDataViewType v ? v.ItemType : type is KeyDataViewType ? NumberDataViewType.UInt32 : type;
        SchemaShape? annotations = null;
        if (Kind == ColumnKind.Key)
        {
            annotations = new SchemaShape(new[]
            {
                new SchemaShape.Column(AnnotationUtils.Kinds.KeyValues, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false, null),
            });
        }
        return new SchemaShape.Column(Name, kind, itemType, Kind == ColumnKind.Key, annotations);
    }

    /// <inheritdoc/>
    public override string ToString() => $"'{Name}' (role: {Role}, {ExpectedTypeDescription})";
}
