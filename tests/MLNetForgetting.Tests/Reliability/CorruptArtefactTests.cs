using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.ML;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.Persistence;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.Infrastructure;
using static MLNetForgetting.Tests.Infrastructure.ZipSurgery;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>
/// Every saved artefact kind (language model, relearned model, task-adapted classifier, assembled
/// classifier, LiST zip, adapter pack), damaged in each way users meet: a clear managed exception that
/// names the component and what is wrong, never a native crash or a NullReferenceException.
/// </summary>
[TestClass]
public sealed class CorruptArtefactTests
{
    private static readonly Dictionary<string, string> ComponentOf = new()
    {
        ["language model"] = "MLNetForgetting.LanguageModel",
        ["relearned"] = "MLNetForgetting.LanguageModel",
        ["classifier"] = "MLNetForgetting.SentencePairClassifier",
        ["assembled"] = "MLNetForgetting.SentencePairClassifier",
        ["LiST"] = "MLNetForgetting.PromptAdapterClassifier",
    };

    private static string Broken(string kind, string what, Action<ZipArchive> breakIt) =>
        CopyAndBreak(DirtyModels.Value.Zips[kind], Path.Combine(DirtyModels.Value.Folder, $"{what}-{Guid.NewGuid():N}.zip"), breakIt);

    private static void AssertNoCrashTypes(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            Assert.IsNotInstanceOfType<NullReferenceException>(x, e.ToString());
    }

    /// <summary>Loads through plain Model.Load (our exception wrapped by ML.NET's reflection) and LoadChecked (unwrapped); both must agree.</summary>
    private static ModelFormatException LoadFails(string path, string kind)
    {
        var ml = new MLContext();
        var thrown = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        AssertNoCrashTypes(thrown);
        var ours = ModelLoadErrors.Find(thrown);
        Assert.IsNotNull(ours, $"no ModelFormatException in the chain: {thrown}");
        Assert.AreEqual(ComponentOf[kind], ours.Component);
        StringAssert.StartsWith(ours.Message, ComponentOf[kind] + ": ");
        var direct = Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadChecked(path, out _));
        Assert.AreEqual(ours.Message, direct.Message);
        return ours;
    }

    [TestMethod]
    [DataRow("language model")] [DataRow("relearned")] [DataRow("classifier")] [DataRow("assembled")] [DataRow("LiST")]
    public void TruncatedZipNamesTheFile(string kind)
    {
        string path = Path.Combine(DirtyModels.Value.Folder, $"truncated-{Guid.NewGuid():N}.zip");
        byte[] bytes = File.ReadAllBytes(DirtyModels.Value.Zips[kind]);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length * 2 / 3).ToArray());
        var ml = new MLContext();
        var plain = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        AssertNoCrashTypes(plain);
        Assert.IsInstanceOfType<FormatException>(plain, plain.ToString()); // ML.NET's "Failed to open a zip archive"
        var e = Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadChecked(path, out _));
        StringAssert.Contains(e.Message, $"'{path}' is not a readable zip archive (truncated or damaged)");
    }

    [TestMethod]
    [DataRow("language model")] [DataRow("relearned")] [DataRow("classifier")] [DataRow("assembled")] [DataRow("LiST")]
    public void MissingEntryIsNamed(string kind)
    {
        var e = LoadFails(Broken(kind, "missing", z => z.GetEntry(ComponentDir(z) + ModelBundle.WeightsEntry)!.Delete()), kind);
        Assert.AreEqual(ModelBundle.WeightsEntry, e.Entry);
        StringAssert.Contains(e.Message, $"entry '{ModelBundle.WeightsEntry}' is missing from the model zip");
    }

    [TestMethod]
    [DataRow("language model")] [DataRow("relearned")] [DataRow("classifier")] [DataRow("assembled")] [DataRow("LiST")]
    public void AlteredEntryFailsItsHash(string kind)
    {
        // One weight byte changed: still a valid safetensors file, so only the manifest's hash can tell.
        var e = LoadFails(Broken(kind, "altered", z => Rewrite(z, ModelBundle.WeightsEntry, b => { b[^3] ^= 0x10; return b; })), kind);
        StringAssert.Contains(e.Message, $"entry '{ModelBundle.WeightsEntry}' is corrupt: its SHA-256 does not match the manifest");
    }

    [TestMethod]
    [DataRow("language model")] [DataRow("relearned")] [DataRow("classifier")] [DataRow("assembled")] [DataRow("LiST")]
    public void FutureFormatVersionAsksForAnUpgrade(string kind)
    {
        var e = LoadFails(Broken(kind, "future", z => RewriteManifest(z, m => m["formatVersion"] = 99)), kind);
        Assert.AreEqual($"{ComponentOf[kind]}: was written with format version 99; this library reads versions up to 1. Upgrade MLNetForgetting.", e.Message);
    }

    [TestMethod]
    public void ListZipWhoseAdaptersBelongToAnotherBackboneIsRefused()
    {
        // A consistent zip (manifest rewritten to match) whose adapter entry names another backbone.
        string path = Broken("LiST", "other-backbone", z =>
        {
            byte[] pack = Read(z.GetEntry(ComponentDir(z) + PromptAdapterTransformer.AdaptersEntry)!);
            byte[] foreign = WithMetadata(pack, m => m["list.backbone_fingerprint"] = new string('0', 64));
            Rewrite(z, PromptAdapterTransformer.AdaptersEntry, _ => foreign);
            RewriteManifest(z, m =>
            {
                var entry = m["entries"]!.AsArray().First(x => (string?)x!["name"] == PromptAdapterTransformer.AdaptersEntry)!;
                entry["length"] = foreign.Length;
                entry["sha256"] = Convert.ToHexStringLower(SHA256.HashData(foreign));
            });
        });
        var e = LoadFails(path, "LiST");
        Assert.AreEqual(PromptAdapterTransformer.AdaptersEntry, e.Entry);
        Assert.IsInstanceOfType<BackboneMismatchException>(e.InnerException);
        StringAssert.Contains(e.Message, "trained on the backbone with fingerprint 0000");
    }

    // ---- adapter pack files ----


    private static Exception LoadPack(byte[] bytes)
    {
        var set = DirtyModels.Value;
        string path = Path.Combine(set.Folder, $"pack-{Guid.NewGuid():N}.adapters");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<Exception>(() => PromptAdapterTransformer.FromAdapterPack(set.Ml, set.LanguageModel, path, ["0", "1"], taskName: "SST-2"));
        AssertNoCrashTypes(e);
        StringAssert.Contains(e.Message, path);
        return e;
    }

    [TestMethod]
    public void AdapterPackLoadsOntoItsBackboneAndIsRefusedByAnother()
    {
        var set = DirtyModels.Value;
        var good = PromptAdapterTransformer.FromAdapterPack(set.Ml, set.LanguageModel, set.AdapterPack, ["0", "1"], taskName: "SST-2");
        Assert.IsTrue(good.PredictProbabilities([["a fine film"]])[0].All(float.IsFinite));
        // The relearned model has the same body but other embeddings and another tokenizer.
        var e = Assert.ThrowsExactly<BackboneMismatchException>(() => PromptAdapterTransformer.FromAdapterPack(set.Ml, set.Relearned, set.AdapterPack, ["0", "1"]));
        StringAssert.Contains(e.Message, e.Expected);
        StringAssert.Contains(e.Message, e.Actual);
    }

    [TestMethod]
    public void TruncatedAdapterPackIsNamed()
    {
        byte[] bytes = File.ReadAllBytes(DirtyModels.Value.AdapterPack);
        var e = LoadPack(bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.IsInstanceOfType<InvalidDataException>(e);
        StringAssert.Contains(e.Message, "truncated");
    }

    [TestMethod]
    public void AlteredAdapterPackFailsItsHash()
    {
        byte[] bytes = File.ReadAllBytes(DirtyModels.Value.AdapterPack);
        bytes[^5] ^= 0x20;
        var e = LoadPack(bytes);
        Assert.IsInstanceOfType<InvalidDataException>(e);
        StringAssert.Contains(e.Message, "does not match its SHA-256");
    }

    [TestMethod]
    public void AdapterPackWithAMissingTensorIsNamed()
    {
        byte[] bytes = File.ReadAllBytes(DirtyModels.Value.AdapterPack);
        var tensors = SafeTensors.Read(bytes, out var meta);
        string dropped = tensors.Keys.First(k => k.Contains("adapter", StringComparison.Ordinal));
        tensors.Remove(dropped);
        byte[] rewritten = SafeTensors.ToBytes(tensors, meta);
        meta["mlnf.content_sha256"] = Convert.ToHexStringLower(SHA256.HashData(rewritten.AsSpan(8 + (int)BitConverter.ToUInt64(rewritten, 0))));
        var e = LoadPack(SafeTensors.ToBytes(tensors, meta));
        Assert.IsInstanceOfType<InvalidDataException>(e);
        StringAssert.Contains(e.Message, $"missing: {dropped}");
    }

    [TestMethod]
    public void FutureAdapterPackVersionAsksForAnUpgrade()
    {
        var e = LoadPack(WithMetadata(File.ReadAllBytes(DirtyModels.Value.AdapterPack), m => m["mlnf.format_version"] = "2"));
        Assert.IsInstanceOfType<InvalidDataException>(e);
        StringAssert.Contains(e.Message, "adapter pack format version 2 is newer than this library reads (up to 1). Upgrade MLNetForgetting.");
    }

    private static byte[] WithMetadata(byte[] pack, Action<Dictionary<string, string>> change)
    {
        var tensors = SafeTensors.Read(pack, out var meta);
        change(meta);
        return SafeTensors.ToBytes(tensors, meta); // the tensor bytes (and so the content hash) are unchanged
    }
}
