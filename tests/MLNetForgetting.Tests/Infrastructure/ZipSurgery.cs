using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetForgetting.MLNet.Persistence;

namespace MLNetForgetting.Tests.Infrastructure;

/// <summary>Damages ML.NET model zips in controlled ways (an entry rewritten, the manifest edited) for the corrupt-artefact tests.</summary>
internal static class ZipSurgery
{
    /// <summary>The folder of our component inside the zip (where its manifest is).</summary>
    public static string ComponentDir(ZipArchive zip)
    {
        var manifest = zip.Entries.Single(e => e.Name == ComponentArchive.ManifestEntry);
        return manifest.FullName[..^ComponentArchive.ManifestEntry.Length];
    }

    public static byte[] Read(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Replaces the component's entry <paramref name="name"/> with <paramref name="change"/>(its bytes).</summary>
    public static void Rewrite(ZipArchive zip, string name, Func<byte[], byte[]> change)
    {
        string full = ComponentDir(zip) + name;
        var entry = zip.GetEntry(full)!;
        byte[] bytes = change(Read(entry));
        entry.Delete();
        using var s = zip.CreateEntry(full).Open();
        s.Write(bytes);
    }

    public static void RewriteManifest(ZipArchive zip, Action<JsonNode> change) =>
        Rewrite(zip, ComponentArchive.ManifestEntry, b =>
        {
            var node = JsonNode.Parse(b)!;
            change(node);
            return JsonSerializer.SerializeToUtf8Bytes(node);
        });

    /// <summary>A copy of <paramref name="source"/> at <paramref name="target"/>, changed by <paramref name="breakIt"/>.</summary>
    public static string CopyAndBreak(string source, string target, Action<ZipArchive> breakIt)
    {
        File.Copy(source, target);
        using (var zip = ZipFile.Open(target, ZipArchiveMode.Update)) breakIt(zip);
        return target;
    }
}
