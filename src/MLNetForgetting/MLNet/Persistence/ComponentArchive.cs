using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;

namespace MLNetForgetting.MLNet.Persistence;

/// <summary>
/// Stores a component's state (torch weights, JSON config, vocabulary files…) as named binary entries
/// inside the ML.NET model zip, next to the component's <c>Model.key</c>. A manifest entry records the
/// component name, our own format version, and each entry's length and SHA-256, so a load can say
/// exactly what is missing, altered or too new instead of failing deep inside a deserialiser.
/// </summary>
internal static class ComponentArchive
{
    /// <summary>Name of the manifest entry written beside the component's entries.</summary>
    public const string ManifestEntry = "mlnf.manifest.json";

    private sealed record ManifestFile(
        [property: JsonPropertyName("component")] string Component,
        [property: JsonPropertyName("formatVersion")] int FormatVersion,
        [property: JsonPropertyName("entries")] List<ManifestEntryInfo> Entries);

    private sealed record ManifestEntryInfo(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("length")] long Length,
        [property: JsonPropertyName("sha256")] string Sha256);

    /// <summary>Writes the manifest and every entry into the component's directory of the model zip.</summary>
    /// <param name="ctx">The save context ML.NET handed to the component's <c>Save</c>; must be in a repository (a zip).</param>
    /// <param name="component">Stable component name used in messages, e.g. "MLNetForgetting.TorchProjection".</param>
    /// <param name="formatVersion">The component's current format version (≥ 1).</param>
    /// <param name="entries">Entry name → content. Names are plain file names such as "weights.safetensors".</param>
    public static void Save(ModelSaveContext ctx, string component, int formatVersion, IReadOnlyDictionary<string, byte[]> entries)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentException.ThrowIfNullOrWhiteSpace(component);
        ArgumentNullException.ThrowIfNull(entries);
        if (formatVersion < 1) throw new ArgumentOutOfRangeException(nameof(formatVersion), formatVersion, "Format versions start at 1.");
        if (!ctx.InRepository)
            throw new InvalidOperationException($"{component} can only be saved into an ML.NET model zip (a repository), not a bare binary stream.");
        foreach (var name in entries.Keys)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Contains('/') || name.Contains('\\') || name == ManifestEntry)
                throw new ArgumentException($"Invalid archive entry name '{name}'.", nameof(entries));
        }

        var ordered = entries.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var manifest = new ManifestFile(component, formatVersion,
            ordered.Select(kv => new ManifestEntryInfo(kv.Key, kv.Value.LongLength, Convert.ToHexStringLower(SHA256.HashData(kv.Value)))).ToList());
        WriteEntry(ctx, ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(manifest, new JsonSerializerOptions { WriteIndented = true }));
        foreach (var (name, bytes) in ordered) WriteEntry(ctx, name, bytes);
    }

    // The bytes are already in memory, so the writer only copies them; a third-party writer that closes
    // its stream (TorchSharp's Module.save does) never sees ML.NET's stream.
    private static void WriteEntry(ModelSaveContext ctx, string name, byte[] bytes) =>
        ctx.SaveBinaryStream(name, w => w.Write(bytes));

    /// <summary>
    /// Reads and validates the component's entries. Throws <see cref="ModelFormatException"/> when the
    /// manifest or a required entry is missing, an entry's length or SHA-256 differs from the manifest,
    /// the manifest names another component, or it was written with a format version above
    /// <paramref name="readableFormatVersion"/>.
    /// </summary>
    /// <returns>Every entry listed in the manifest, validated, by name.</returns>
    public static IReadOnlyDictionary<string, byte[]> Load(ModelLoadContext ctx, string component, int readableFormatVersion, IReadOnlyCollection<string> requiredEntries)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentException.ThrowIfNullOrWhiteSpace(component);
        ArgumentNullException.ThrowIfNull(requiredEntries);
        if (!ctx.InRepository)
            throw new ModelFormatException(component, "the saved state is not inside a model zip (no repository); it cannot be read.");

        byte[] manifestBytes = ReadEntry(ctx, component, ManifestEntry)
            ?? throw new ModelFormatException(component, $"entry '{ManifestEntry}' is missing from the model zip", ManifestEntry);
        ManifestFile? manifest;
        try { manifest = JsonSerializer.Deserialize<ManifestFile>(manifestBytes); }
        catch (JsonException e) { throw Corrupt(component, ManifestEntry, e.Message, e); }
        if (manifest is null || manifest.Component is null || manifest.Entries is null)
            throw Corrupt(component, ManifestEntry, "it lacks the component name or the entry list");
        if (!string.Equals(manifest.Component, component, StringComparison.Ordinal))
            throw new ModelFormatException(component, $"the model zip holds state of component '{manifest.Component}' where '{component}' was expected", ManifestEntry);
        if (manifest.FormatVersion < 1)
            throw Corrupt(component, ManifestEntry, $"format version {manifest.FormatVersion} is not valid");
        if (manifest.FormatVersion > readableFormatVersion)
            throw new ModelFormatException(component,
                $"was written with format version {manifest.FormatVersion}; this library reads versions up to {readableFormatVersion}. Upgrade MLNetForgetting.");

        var listed = manifest.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        foreach (var required in requiredEntries)
        {
            if (!listed.ContainsKey(required))
                throw new ModelFormatException(component, $"entry '{required}' is missing from the model zip (its manifest does not list it)", required);
        }

        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var info in manifest.Entries)
        {
            byte[] bytes = ReadEntry(ctx, component, info.Name)
                ?? throw new ModelFormatException(component, $"entry '{info.Name}' is missing from the model zip", info.Name);
            if (bytes.LongLength != info.Length)
                throw Corrupt(component, info.Name, $"it has {bytes.LongLength} bytes, the manifest says {info.Length}");
            string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(hash, info.Sha256, StringComparison.OrdinalIgnoreCase))
                throw Corrupt(component, info.Name, "its SHA-256 does not match the manifest (the entry was altered or damaged)");
            result[info.Name] = bytes;
        }
        return result;
    }

    /// <summary>Builds the "entry 'x' is corrupt: …" exception; components use it for their own parse errors.</summary>
    public static ModelFormatException Corrupt(string component, string entry, string what, Exception? inner = null) =>
        new(component, $"entry '{entry}' is corrupt: {what}", entry, inner);

    private static byte[]? ReadEntry(ModelLoadContext ctx, string component, string name)
    {
        byte[]? bytes = null;
        try
        {
            bool found = ctx.TryLoadBinaryStream(name, r =>
            {
                using var ms = new MemoryStream();
                r.BaseStream.CopyTo(ms);
                bytes = ms.ToArray();
            });
            return found ? bytes : null;
        }
        catch (InvalidDataException e)
        {
            // Deflate or CRC failure inside the zip entry.
            throw Corrupt(component, name, e.Message, e);
        }
    }
}
