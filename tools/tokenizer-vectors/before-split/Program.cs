using System.Text.Json;
using MLNetForgetting.Text;
string outDir = args[0], fixtures = args[1];
var corpus = File.ReadAllLines(Path.Combine(fixtures, "corpus.txt"));
var sentences = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(fixtures, "sentences.json")))!;
void Save(string name, SubwordTokenizer t)
{
    string d = Path.Combine(outDir, name);
    Directory.CreateDirectory(d);
    foreach (var (f, b) in t.ToFiles()) File.WriteAllBytes(Path.Combine(d, f), b);
    var ids = sentences.Select(s => t.EncodeToIds(s)).ToArray();
    File.WriteAllText(Path.Combine(d, "ids.json"), JsonSerializer.Serialize(new { kind = t.Kind, vocab_size = t.VocabSize, fingerprint = t.Fingerprint,
        specials = new[] { t.BosId, t.PadId, t.EosId, t.UnkId, t.MaskId }, ids }));
    Console.WriteLine($"{name} {t.Kind} {t.VocabSize} {t.Fingerprint}");
}
Save("bpe", BpeVocabularyTrainer.Train(corpus, new BpeTrainerOptions { VocabSize = 400 }));
Save("sentencepiece", SubwordTokenizer.FromSentencePiece(File.OpenRead(args[2])));
Save("bert", SubwordTokenizer.FromBertVocab(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a", "dog", ".", "café", "caf", "##é", "cafe", "##e" }) + "\n")), lowerCase: true, stripAccents: false));
Save("tiktoken", SubwordTokenizer.FromTiktoken("o200k_base"));
