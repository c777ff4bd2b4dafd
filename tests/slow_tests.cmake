# Read by CTest after the discovered tests: those above 10 s on the 2-core machine also carry
# the label `slow` (`ctest -LE slow` leaves them out; scripts/test.sh runs them all).
set(hao_slow_unit Cli.QuantizeMeetsALatencyTarget Mbv2Selection.ProposalsTraceTheSurrogatesFrontier
    Mbv2Selection.Program4EqualsEnumerationWithProgram1)
set(hao_slow_torch QuantizeTorch.MeasuresSensitivityAndFineTunesAtTheChosenBits
    SearchTorch.ExtendedTrainedStudyAsksWhatTheWholeOneAsked Train.LearnsAndIsDeterministic
    Qat.QuantizationAwareTrainingKeepsAccuracy Train.EvalModeOnnxExportLearnsWithBatchNormsAddedForTraining
    Train.StallCheckStopsANetworkThatCannotLearnAndOnlyThat
    TrainTorch.EvalModeExportStopsWithAMessageWhenTrainedWithoutBatchNorms
    SupernetTrain.SandwichTrainingTeachesEveryMemberAndIsDeterministic
    SupernetTrain.QuantizationAwarePhaseKeepsMembersAccurateAtTheirBits
    SupernetTorch.TrainEvalExportAndTheExportMeasuresTheSame
    SupernetTorch.SearchTrainsTheSupernetOnceAndASecondSearchReusesIt)
foreach(t IN LISTS hao_slow_unit)
  set_tests_properties(${t} PROPERTIES LABELS "unit;slow")
endforeach()
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/nn_tests")
  foreach(t IN LISTS hao_slow_torch)
    set_tests_properties(${t} PROPERTIES LABELS "torch;slow")
  endforeach()
endif()
