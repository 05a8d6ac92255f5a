namespace Newsletter.Tests; public class Placeholder { [Fact] public void Runs() => Assert.Equal(2, 1 + 1); }
