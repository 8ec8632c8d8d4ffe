using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Text;
using static MLNetForgetting.Tests.Adaptation.AdaptationTestData;

namespace MLNetForgetting.Tests.Adaptation;

[TestClass]
public sealed class PipelineInputTests
{
    [TestMethod]
    public void TheDataFolderReaderSeesWhatTheSyntheticWriterWrote()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-xling-" + Guid.NewGuid().ToString("N"));
        try
        {
            Testbed.WriteDataset(dir, corpusSentences: 300, nliTrain: 200, nliDev: 50);
            var options = new SyntheticInputOptions { TrainExamples = 200, DevExamples = 50, CorpusSentences = 300 };
            var fromMemory = CrossLingualInputs.FromSyntheticTestbed(Testbed, ["xa", "xc"], options);
            var fromFolder = CrossLingualInputs.FromDataFolder(dir, ["xa", "xc"], new DataFolderInputOptions { MaxCorpusLines = 120 });
            CollectionAssert.AreEqual(fromMemory.SourceTrain.ToArray(), fromFolder.SourceTrain.ToArray());
            CollectionAssert.AreEqual(fromMemory.SourceDev!.ToArray(), fromFolder.SourceDev!.ToArray());
            for (int i = 0; i < 2; i++)
            {
                CollectionAssert.AreEqual(fromMemory.Targets[i].Dev.ToArray(), fromFolder.Targets[i].Dev.ToArray());
                CollectionAssert.AreEqual(fromMemory.Targets[i].Corpus().Take(120).ToArray(), fromFolder.Targets[i].Corpus().ToArray(), "the corpus cap must apply");
            }
            StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => CrossLingualInputs.FromDataFolder(dir, ["zz"])).Message, Path.Combine("raw", "zz"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void TheSharedDataFolderLoadsWithCaps()
    {
        var inputs = CrossLingualInputs.FromDataFolder(TextTestData.DataRoot, ["de", "sw"], new DataFolderInputOptions { MaxCorpusLines = 50, MaxTrainExamples = 300, MaxDevExamples = 200 });
        Assert.AreEqual(300, inputs.SourceTrain.Count);
        Assert.AreEqual(200, inputs.SourceDev!.Count);
        Assert.AreEqual(50, inputs.Targets[0].Corpus().Count());
        // XNLI rows are aligned: the same labels in every language.
        CollectionAssert.AreEqual(inputs.SourceDev.Select(e => e.Label).ToArray(), inputs.Targets[1].Dev.Select(e => e.Label).ToArray());
    }

    [TestMethod]
    public void ThePipelineRejectsTargetDevLabelsOutsideTheTrainingLabelSetBeforeTraining()
    {
        using var model = NewModel();
        var dev = Pairs("xa", 6, 1).ToList();
        dev[3] = (dev[3].Premise, dev[3].Hypothesis, 3);
        var inputs = new CrossLingualInputs(["entailment", "neutral", "contradiction"], Pairs("en", 20, 2), null,
            [new TargetLanguageInput("xa", () => TargetCorpus, dev)]);
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentException>(() => CrossLingualPipeline.Run(ml, AsLanguageModel(ml, model, EnglishTokenizer), inputs, new CrossLingualPipeline.Options()));
        StringAssert.Contains(e.Message, "xa dev[3]: label 3 is not in the label set");
    }

    [TestMethod]
    public void ATargetCorpusTooSmallForItsVocabularyStopsThePipelineWithTheThreshold()
    {
        using var model = NewModel();
        var inputs = new CrossLingualInputs(["entailment", "neutral", "contradiction"], Pairs("en", 20, 2), null,
            [new TargetLanguageInput("xa", () => TargetCorpus.Take(10), Pairs("xa", 6, 1))]);
        var options = new CrossLingualPipeline.Options
        {
            TaskAdaptation = new TaskAdaptationSettings { MaxSteps = 2, BatchSize = 8 },
            TargetVocabularySize = 1000,
        };
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentException>(() => CrossLingualPipeline.Run(ml, AsLanguageModel(ml, model, EnglishTokenizer), inputs, options));
        StringAssert.Contains(e.Message, "too small to train a 1000-token vocabulary");
        StringAssert.Contains(e.Message, "7390");
    }
}
