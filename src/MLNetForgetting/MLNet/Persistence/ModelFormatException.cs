namespace MLNetForgetting.MLNet.Persistence;

/// <summary>
/// A saved MLNetForgetting component cannot be read: an entry is missing or corrupt, or it was written
/// by a newer format version. The message names the component, the entry or version, and what is wrong.
/// </summary>
/// <remarks>
/// <para>It derives from <see cref="FormatException"/> (what ML.NET's own decode errors are), because
/// <see cref="InvalidDataException"/> is sealed.</para>
/// ML.NET invokes loaders by reflection, so from <c>mlContext.Model.Load</c> this exception arrives
/// wrapped (see <see cref="ModelLoadErrors"/>); <see cref="ModelLoadErrors.Find"/> digs it out.
/// </remarks>
public sealed class ModelFormatException : FormatException
{
    /// <summary>Creates the exception; the message becomes "<paramref name="component"/>: <paramref name="detail"/>".</summary>
    public ModelFormatException(string component, string detail, string? entry = null, Exception? inner = null)
        : base($"{component}: {detail}", inner)
    {
        Component = component;
        Entry = entry;
    }

    /// <summary>The component whose saved state failed to load, e.g. "MLNetForgetting.TorchProjection".</summary>
    public string Component { get; }

    /// <summary>The archive entry at fault, when there is one.</summary>
    public string? Entry { get; }
}
