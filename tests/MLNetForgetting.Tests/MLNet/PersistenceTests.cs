using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.Tests.Infrastructure;
using static MLNetForgetting.Tests.Infrastructure.ZipSurgery;

namespace MLNetForgetting.Tests.MLNet;

[TestClass]
public sealed class PersistenceTests
{
    private static TempDir _dir = null!;
    private static string _zip = null!;
    private static MLContext _ml = null!;
    private static ITransformer _model = null!;

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        _dir = new TempDir();
        (_ml, _model, var train) = ProjectionFixture.Fit();
        _zip = _dir.File("model.zip");
        _ml.Model.Save(_model, train.Schema, _zip);
    }

    [ClassCleanup]
    public static void Cleanup() => _dir.Dispose();

    [TestMethod]
    public void Fitted_pipeline_round_trips_through_a_child_process()
    {
        var projection = ((IEnumerable<ITransformer>)_model).Last() as TorchProjectionTransformer;
        Assert.IsNotNull(projection);
        Assert.IsLessThan(projection.TrainingLosses[0] * 0.9f, projection.TrainingLosses[^1], "training did not reduce the loss");

        var rows = ProjectionFixture.Rows(20, seed: 99);
        var expected = ProjectionFixture.Project(_ml, _model, rows);
        string input = _dir.File("input.json"), output = _dir.File("output.json");
        File.WriteAllText(input, JsonSerializer.Serialize(rows.Select(r => r.Features)));

        ChildProcess.RunChecked("predict-zip", _zip, input, output);

        var child = JsonSerializer.Deserialize<ModelZipChildActions.Output>(File.ReadAllText(output))!;
        Assert.IsFalse(child.LibraryLoadedBeforeLoad, "the child touched MLNetForgetting before Model.Load; the test would not prove loading by name");
        Assert.IsTrue(child.LibraryLoadedAfterLoad);
        ProjectionFixture.AssertClose(expected, child.Transform, 1e-5, "child Transform vs parent");
        ProjectionFixture.AssertClose(expected, child.Engine, 1e-5, "child PredictionEngine vs parent");
        // Not a constant output: the rows differ.
        Assert.AreNotEqual(expected[0][0], expected[1][0]);
    }

    [TestMethod]
    public void Loaded_model_saves_again_with_identical_entries()
    {
        var ml = new MLContext();
        var loaded = ml.Model.Load(_zip, out var schema);
        string again = _dir.File("again.zip");
        ml.Model.Save(loaded, schema, again);
        using var a = ZipFile.OpenRead(_zip);
        using var b = ZipFile.OpenRead(again);
        foreach (var name in new[] { ComponentArchive.ManifestEntry, "weights.safetensors", "config.json" })
            CollectionAssert.AreEqual(Read(a.GetEntry(ComponentDir(a) + name)!), Read(b.GetEntry(ComponentDir(b) + name)!), name);
        var rows = ProjectionFixture.Rows(5, seed: 4);
        ProjectionFixture.AssertClose(ProjectionFixture.Project(_ml, _model, rows), ProjectionFixture.Project(ml, ml.Model.Load(again, out _), rows), 1e-6, "reloaded twice");
    }

    [TestMethod]
    public void Zip_holds_manifest_weights_and_config()
    {
        using var zip = ZipFile.OpenRead(_zip);
        string dir = ComponentDir(zip);
        foreach (var name in new[] { ComponentArchive.ManifestEntry, "weights.safetensors", "config.json" })
            Assert.IsNotNull(zip.GetEntry(dir + name), $"{dir}{name} missing; entries: {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        var manifest = JsonNode.Parse(Read(zip.GetEntry(dir + ComponentArchive.ManifestEntry)!))!;
        Assert.AreEqual("MLNetForgetting.TorchProjection", (string?)manifest["component"]);
        Assert.AreEqual(1, (int)manifest["formatVersion"]!);
    }

    [TestMethod]
    public void Missing_entry_fails_naming_the_entry()
    {
        var e = LoadBroken(z => z.GetEntry(ComponentDir(z) + "weights.safetensors")!.Delete());
        Assert.AreEqual("weights.safetensors", e.Entry);
        StringAssert.Contains(e.Message, "MLNetForgetting.TorchProjection: entry 'weights.safetensors' is missing from the model zip");
    }

    [TestMethod]
    public void Missing_manifest_fails_naming_it()
    {
        var e = LoadBroken(z => z.GetEntry(ComponentDir(z) + ComponentArchive.ManifestEntry)!.Delete());
        StringAssert.Contains(e.Message, $"entry '{ComponentArchive.ManifestEntry}' is missing");
    }

    [TestMethod]
    public void Altered_entry_fails_with_a_hash_mismatch()
    {
        var e = LoadBroken(z => Rewrite(z, "weights.safetensors", b => { b[^1] ^= 0x5A; b[^5] ^= 0x01; return b; }));
        StringAssert.Contains(e.Message, "entry 'weights.safetensors' is corrupt: its SHA-256 does not match the manifest");
    }

    [TestMethod]
    public void Resized_entry_fails_with_a_length_mismatch()
    {
        var e = LoadBroken(z => Rewrite(z, "config.json", b => b.Concat(new byte[] { 32 }).ToArray()));
        StringAssert.Contains(e.Message, "entry 'config.json' is corrupt: it has");
    }

    [TestMethod]
    public void Unparseable_config_with_a_consistent_manifest_fails_as_corrupt()
    {
        // A writer bug rather than damage: the manifest matches, the content does not parse.
        var e = LoadBroken(z =>
        {
            byte[] garbage = Encoding.UTF8.GetBytes("{ not json");
            Rewrite(z, "config.json", _ => garbage);
            RewriteManifest(z, m =>
            {
                var entry = m["entries"]!.AsArray().First(x => (string?)x!["name"] == "config.json")!;
                entry["length"] = garbage.Length;
                entry["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(garbage));
            });
        });
        StringAssert.Contains(e.Message, "MLNetForgetting.TorchProjection: entry 'config.json' is corrupt:");
    }

    [TestMethod]
    public void Newer_format_version_fails_asking_for_an_upgrade()
    {
        var e = LoadBroken(z => RewriteManifest(z, m => m["formatVersion"] = 7));
        Assert.AreEqual(
            "MLNetForgetting.TorchProjection: was written with format version 7; this library reads versions up to 1. Upgrade MLNetForgetting.",
            e.Message);
    }

    [TestMethod]
    public void Truncated_zip_fails_with_a_clear_managed_exception()
    {
        string path = _dir.File($"truncated-{Guid.NewGuid():N}.zip");
        byte[] bytes = File.ReadAllBytes(_zip);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var ml = new MLContext();
        var e = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        // What ML.NET 6.0.0 (and 5.0.1) does, before any of our code runs: FormatException "Failed to open a zip
        // archive" around ZipArchive's InvalidDataException.
        Assert.IsInstanceOfType<FormatException>(e, e.ToString());
        StringAssert.Contains(e.Message, "Failed to open a zip archive");
        Assert.IsInstanceOfType<InvalidDataException>(e.InnerException);
        StringAssert.Contains(e.InnerException.Message, "End of Central Directory record could not be found");
    }

    [TestMethod]
    public void Byte_flipped_inside_the_stored_weights_fails_as_corrupt()
    {
        // Damage on disk, not a rewritten entry: the zip's own CRC or deflate check fires while we
        // read the entry, and we report it as a corrupt entry.
        string path = _dir.File($"flipped-{Guid.NewGuid():N}.zip");
        byte[] bytes = File.ReadAllBytes(_zip);
        int data = LocalEntryDataOffset(bytes, "weights.safetensors", out int compressedSize);
        bytes[data + compressedSize / 2] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var thrown = Assert.Throws<Exception>(() => new MLContext().Model.Load(path, out _));
        var ours = ModelLoadErrors.Find(thrown);
        Assert.IsNotNull(ours, thrown.ToString());
        StringAssert.Contains(ours.Message, "entry 'weights.safetensors' is corrupt:");
    }

    // Finds a local file header by name (PK\x03\x04, name at +30) and returns where its data starts.
    private static int LocalEntryDataOffset(byte[] zip, string nameSuffix, out int compressedSize)
    {
        byte[] suffix = Encoding.ASCII.GetBytes(nameSuffix);
        for (int i = 0; i + 30 < zip.Length; i++)
        {
            if (zip[i] != 0x50 || zip[i + 1] != 0x4B || zip[i + 2] != 3 || zip[i + 3] != 4) continue;
            int nameLen = BitConverter.ToUInt16(zip, i + 26), extraLen = BitConverter.ToUInt16(zip, i + 28);
            var name = zip.AsSpan(i + 30, nameLen);
            if (!name.EndsWith(suffix)) continue;
            compressedSize = BitConverter.ToInt32(zip, i + 18);
            Assert.IsGreaterThan(16, compressedSize, "sizes are in the data descriptor; adjust the test");
            return i + 30 + nameLen + extraLen;
        }
        throw new AssertFailedException($"no local header for {nameSuffix}");
    }

    /// <summary>Copies the good zip, breaks it, loads it in-process and returns our exception from the chain.</summary>
    private static ModelFormatException LoadBroken(Action<ZipArchive> breakIt)
    {
        string path = ZipSurgery.CopyAndBreak(_zip, _dir.File($"broken-{Guid.NewGuid():N}.zip"), breakIt);
        var ml = new MLContext();
        var thrown = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        // ML.NET invokes loaders by reflection: the chain's loader, then ours.
        Assert.IsInstanceOfType<System.Reflection.TargetInvocationException>(thrown);
        var ours = ModelLoadErrors.Find(thrown);
        Assert.IsNotNull(ours, $"no ModelFormatException in the chain: {thrown}");
        StringAssert.Contains(thrown.ToString(), ours.Message, "the logged exception should carry our message");
        Assert.AreEqual("MLNetForgetting.TorchProjection", ours.Component);
        // LoadChecked surfaces the same error unwrapped.
        var direct = Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadChecked(path, out _));
        Assert.AreEqual(ours.Message, direct.Message);
        return ours;
    }
}
