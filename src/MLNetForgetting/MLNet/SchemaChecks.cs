using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>
/// Input-column checks with errors that name the column, its role, the expected and the actual type,
/// in ML.NET's wording ("Could not find input column 'X' (role: text)", "Schema mismatch for input
/// column 'X' (role: sentence): expected String, got Single"). Like ML.NET's
/// <c>ExceptSchemaMismatch</c>, they throw <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
internal static class SchemaChecks
{
    /// <summary>Finds <paramref name="columnName"/> in <paramref name="schema"/> and checks its type with <paramref name="accepts"/>.</summary>
    public static DataViewSchema.Column Require(DataViewSchema schema, string columnName, string role, string expectedTypeDescription,
        Func<DataViewType, bool> accepts, string paramName = "inputSchema")
    {
        ArgumentNullException.ThrowIfNull(schema);
        var column = schema.GetColumnOrNull(columnName);
        if (column is null) throw Missing(columnName, role, paramName);
        if (!accepts(column.Value.Type)) throw Mismatch(columnName, role, expectedTypeDescription, column.Value.Type.ToString() ?? "?", paramName, column.Value.Type is KeyDataViewType);
        return column.Value;
    }

    /// <summary>Schema-propagation form of <see cref="Require(DataViewSchema,string,string,string,Func{DataViewType,bool},string)"/>.</summary>
    public static SchemaShape.Column Require(SchemaShape schema, string columnName, string role, string expectedTypeDescription,
        Func<SchemaShape.Column, bool> accepts, string paramName = "inputSchema")
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (!schema.TryFindColumn(columnName, out var column)) throw Missing(columnName, role, paramName);
        if (!accepts(column)) throw Mismatch(columnName, role, expectedTypeDescription, Describe(column), paramName, column.IsKey);
        return column;
    }

    /// <summary>Checks every spec against <paramref name="schema"/>; returns the columns in spec order.</summary>
    public static DataViewSchema.Column[] RequireAll(DataViewSchema schema, IReadOnlyList<ColumnSpec> specs) =>
        specs.Select(s => Require(schema, s.Name, s.Role, s.ExpectedTypeDescription, s.Accepts)).ToArray();

    /// <summary>Checks every spec against <paramref name="schema"/>.</summary>
    public static void RequireAll(SchemaShape schema, IReadOnlyList<ColumnSpec> specs)
    {
        foreach (var s in specs) Require(schema, s.Name, s.Role, s.ExpectedTypeDescription, s.Accepts);
    }


    private static ArgumentOutOfRangeException Missing(string name, string role, string paramName) =>
        new(paramName, $"Could not find input column '{name}' (role: {role})");

    // A key is almost always a label that arrived as text or numbers: say how to make one.
    private static ArgumentOutOfRangeException Mismatch(string name, string role, string expected, string actual, string paramName, bool actualIsKey) =>
        new(paramName, $"Schema mismatch for input column '{name}' (role: {role}): expected {expected}, got {actual}"
            + (expected.StartsWith("Key<", StringComparison.Ordinal) && !actualIsKey ? $". Map the values to keys first: mlContext.Transforms.Conversion.MapValueToKey(\"{name}\")." : ""));

    // SchemaShape columns do not print like DataViewType; spell them the same way.
    private static string Describe(SchemaShape.Column c)
    {
        string item = c.IsKey ? $"Key<{c.ItemType.RawType.Name}>" : c.ItemType.ToString() ?? "?";
        return c.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            _ => $"Vector<{item}>",
        };
    }
}
