const which = process.argv[2];
const mod = await import(`./scenarios/${which}.ts`);
const fn = Object.values(mod)[0] as (o: Record<string, number>) => Promise<unknown>;
console.log(JSON.stringify(await fn(JSON.parse(process.argv[3] ?? "{}")), null, 1));
