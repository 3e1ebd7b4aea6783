package dynamostore_test

const crashChildEnv = "LAZYFLOW_DYNAMOSTORE_CRASH_CHILD"

func crashChild() int { return 0 }
