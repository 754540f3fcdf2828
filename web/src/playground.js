export async function setUpPlayground() {}
