using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.MLNet;

/// <summary>Streams one text column of an <see cref="IDataView"/> through a cursor: the corpus never has to fit in memory.</summary>
internal static class DataViewText
{
    /// <summary>The values of <paramref name="column"/>, read lazily; a new enumeration opens a new cursor.</summary>
    public static IEnumerable<string?> Read(IDataView data, string column)
    {
        var col = data.Schema[column];
        using var cursor = data.GetRowCursor(new[] { col });
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(col);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            yield return value.ToString();
        }
    }

    /// <summary>
    /// The text a model encodes at prediction time: null, empty and whitespace-only text all become the
    /// empty string, so they get one and the same answer (the model's output for &lt;s&gt;&lt;/s&gt;)
    /// through <c>Transform</c>, a prediction engine and the direct APIs alike; no row is skipped or fails.
    /// </summary>
    public static string ForPrediction(string? text) => string.IsNullOrWhiteSpace(text) ? "" : text;
}
